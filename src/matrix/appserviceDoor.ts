import { timingSafeEqual } from "node:crypto";
import express, { NextFunction, Request, RequestHandler, Response } from "express";
import { DomainError } from "../errors/DomainError";
import { httpAnswer } from "../errors/httpAnswer";
import { logger } from "../log";
import { bearerToken } from "../util/bearer";
import { bodyProblemOf } from "../util/bodyProblems";
import { BadTransaction, RetryTransaction } from "./transactions";

/**
 * The appservice listener's door, in the order a request meets it: the
 * homeserver token (from the headers alone, so nothing is read from someone
 * who has none), then the body's media type, charset and encoding (from the
 * headers too), then the body itself, within its size limit. Every refusal
 * is a 4xx with a Matrix `{errcode, error}`; only a transaction that may
 * succeed later is a 500. Timeouts are every listener's
 * (src/util/listenerServer.ts).
 */

const log = logger("appservice");

const JSON_TYPE = /^application\/json\s*(?:;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

/** `Authorization: Bearer <hs_token>` (any case of the scheme), or the older `?access_token=`. */
export function authorise(hsToken: string): RequestHandler {
  const expected = Buffer.from(hsToken);
  return (req, _res, next) => {
    const query = req.query.access_token;
    const provided = bearerToken(req.get("authorization")) ?? (typeof query === "string" ? query : undefined);
    if (provided === undefined) return next(new DomainError("M_UNAUTHORIZED", "Missing homeserver token"));
    const given = Buffer.from(provided);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return next(new DomainError("M_FORBIDDEN", "Bad homeserver token"));
    }
    next();
  };
}

/**
 * A JSON body as the homeserver sends it: `application/json`, UTF-8 (the
 * only charset Matrix uses; JSON text exchanged between systems must be
 * UTF-8, RFC 8259 §8.1), no Content-Encoding. Synapse never compresses its
 * pushes, so gzip is refused rather than inflated: inflating is a way to
 * make a small request cost a large body.
 */
export function jsonBody(maxBodyBytes: number): RequestHandler[] {
  const parse = express.json({ limit: maxBodyBytes, strict: true, inflate: false, type: () => true });
  const check: RequestHandler = (req, _res, next) => {
    const type = req.get("content-type") ?? "";
    if (!JSON_TYPE.test(type)) return next(new DomainError("M_NOT_JSON_MEDIA_TYPE", "Content-Type must be application/json"));
    const charset = CHARSET.exec(type)?.[1];
    if (charset !== undefined && charset.toLowerCase() !== "utf-8") {
      return next(new DomainError("M_NOT_JSON_MEDIA_TYPE", "the body must be UTF-8 (charset=utf-8, or no charset)"));
    }
    const encoding = (req.get("content-encoding") ?? "identity").trim().toLowerCase();
    if (encoding !== "identity" && encoding !== "") {
      return next(new DomainError("M_NOT_JSON_MEDIA_TYPE", "Content-Encoding is not supported: send the JSON uncompressed"));
    }
    next();
  };
  return [check, parse];
}

/** Every failure as `{errcode, error}`: 4xx for what the request got wrong, 500 only for "try again".
 *  Statuses come from the catalogue (src/errors/catalogue.ts). */
export function matrixErrors() {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const known = asDomainError(error);
    const answer = known && httpAnswer("appservice", known);
    if (answer) {
      log.debug("request refused", { method: req.method, path: req.path, status: answer.status, errcode: answer.body.errcode, error: answer.body.error });
    } else if (!(error instanceof RetryTransaction)) {
      // A bug of ours (a RetryTransaction was logged where it arose, without a stack).
      log.error("request failed", { method: req.method, path: req.path, error: (error as Error)?.stack ?? String(error) });
    }
    const sent = answer ?? httpAnswer("appservice", new DomainError("M_UNKNOWN"));
    if (res.headersSent || !sent) return void res.end();
    res.status(sent.status).json(sent.body);
  };
}

function asDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (error instanceof BadTransaction) return new DomainError("M_BAD_JSON", error.message);
  switch (bodyProblemOf(error)) {
    case "too_large": return new DomainError("M_TOO_LARGE", "the request body is too large");
    case "bad_json": return new DomainError("M_NOT_JSON", "the request body is not valid JSON");
    case "bad_encoding": return new DomainError("M_NOT_JSON_MEDIA_TYPE", "the body must be UTF-8 JSON without Content-Encoding");
    case "unreadable": return new DomainError("M_BAD_JSON", "the request body could not be read");
    default: break;
  }
  // express's own client errors (a path that does not decode, …): all 400s.
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === "number" && status >= 400 && status < 500) return new DomainError("M_INVALID_PARAM", "the request could not be understood");
  return undefined;
}
