import { randomUUID } from "node:crypto";
import { Request, RequestHandler } from "express";
import { logger } from "../log";
import { MonotonicClock, systemClock } from "../util/monotonicClock";
import { RequestContext } from "./WebCallNode";

/** Each request's id and arrival time, taken before anything else runs. */

const log = logger("webcall.http");

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

declare module "express-serve-static-core" {
  interface Request {
    ctx?: RequestContext;
  }
}

export function ctxOf(req: Request): RequestContext {
  return req.ctx ?? { requestId: "-", receivedAt: systemClock.now() };
}

/** Notes the arrival on `clock` (what neutral answers are timed from), takes
 *  or makes an X-Request-Id, and sets the headers every answer carries. */
export function requestContext(clock: MonotonicClock): RequestHandler {
  return (req, res, next) => {
    const receivedAt = clock.now();
    const given = req.get("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.ctx = { requestId, receivedAt };
    res.setHeader("X-Request-Id", requestId);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Cache-Control", "no-store");
    if (log.isDebugEnabled()) {
      const started = Date.now();
      res.on("finish", () => log.debug("request", {
        requestId, method: req.method, path: req.path, status: res.statusCode, ms: Date.now() - started,
      }));
    }
    next();
  };
}
