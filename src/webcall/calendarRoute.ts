import express, { Request } from "express";
import rateLimit from "express-rate-limit";
import { DomainError } from "../errors/DomainError";
import { logger } from "../log";
import { CalendarFeed, MAX_FEED_WEEKS } from "../rota/CalendarFeeds";
import { clientKey } from "./clientKey";
import { preflight } from "./cors";
import { methodNotAllowed } from "./httpErrors";

/**
 * GET {path}/calendar/{rota}/{secret}.ics[?weeks=N]: a rota's shifts as
 * iCalendar (RFC 5545), on the public listener so that calendar apps
 * anywhere can subscribe. A wrong secret and a rota that does not exist get
 * the same 404 as any unknown path (`WEBCALL_NOT_FOUND`, "no such
 * endpoint"). Calendar apps poll, so each client gets its own, tighter rate
 * limit here on top of the listener's; the answer is `private, no-cache`
 * (the URL is a secret: no shared cache keeps it) with a weak ETag, so a
 * poll whose shifts did not change gets 304 with no body.
 */

/** Gives the feed, or undefined for a wrong name or secret. */
export type CalendarSource = (name: string, secret: string, weeks?: number) => Promise<CalendarFeed | undefined>;

/** Feed requests a client may make per minute. */
export const CALENDAR_RATE_PER_MINUTE = 30;

const FILE = /^([A-Za-z0-9_-]{1,128})\.ics$/;
const WEEKS = /^[1-9][0-9]?$/;

const log = logger("webcall.calendar");

function notFound(): DomainError {
  return new DomainError("WEBCALL_NOT_FOUND", "no such endpoint");
}

function weeksOf(req: Request): number | undefined {
  const weeks = req.query.weeks;
  if (weeks === undefined) return undefined;
  if (typeof weeks !== "string" || !WEEKS.test(weeks) || Number(weeks) > MAX_FEED_WEEKS) {
    throw new DomainError("WEBCALL_BAD_REQUEST", `weeks must be a whole number from 1 to ${MAX_FEED_WEEKS}`);
  }
  return Number(weeks);
}

/** Whether the client's If-None-Match names `etag` (weak comparison, RFC 9110 §13.1.2). */
function notModified(req: Request, etag: string): boolean {
  const header = req.get("if-none-match");
  if (header === undefined) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.trim() === "*" || header.split(",").some((tag) => bare(tag) === bare(etag));
}

export function calendarRoute(base: string, source: CalendarSource): express.Router {
  const router = express.Router();
  const limit = rateLimit({
    windowMs: 60_000,
    limit: CALENDAR_RATE_PER_MINUTE,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    keyGenerator: (req) => clientKey(req),
    handler: (_req, _res, next) => next(new DomainError("WEBCALL_RATE_LIMITED", "too many calendar requests; retry later", 60)),
  });
  router.route(`${base}/calendar/:name/:file`)
    .get(limit, (req, res, next) => {
      const file = FILE.exec(String(req.params.file));
      if (!file) { next(notFound()); return; }
      let weeks: number | undefined;
      try {
        weeks = weeksOf(req);
      } catch (error) {
        next(error);
        return;
      }
      source(String(req.params.name), file[1]!, weeks).then((feed) => {
        if (!feed) { next(notFound()); return; }
        res.setHeader("Cache-Control", "private, no-cache");
        res.setHeader("ETag", feed.etag);
        res.setHeader("Referrer-Policy", "no-referrer");
        res.setHeader("X-Content-Type-Options", "nosniff");
        if (notModified(req, feed.etag)) { res.status(304).end(); return; }
        res.setHeader("Content-Disposition", `inline; filename="${String(req.params.name).replace(/[^a-z0-9._-]/g, "")}.ics"`);
        res.status(200).type("text/calendar; charset=utf-8").send(feed.body);
      }, (error: unknown) => {
        log.warn("calendar feed failed", { error: (error as Error).message });
        next(new DomainError("WEBCALL_UNAVAILABLE", "temporarily unable to answer; retry"));
      });
    })
    .options(preflight("GET"))
    .all(methodNotAllowed("GET"));
  return router;
}
