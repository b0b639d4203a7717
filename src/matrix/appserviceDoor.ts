import { timingSafeEqual } from "node:crypto";
import express, { NextFunction, Request, RequestHandler, Response } from "express";
import { BridgeError } from "../errors";
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
    if (provided === undefined) return next(new BridgeError(401, "M_UNAUTHORIZED", "Missing homeserver token"));
    const given = Buffer.from(provided);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return next(new BridgeError(403, "M_FORBIDDEN", "Bad homeserver token"));
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
    if (!JSON_TYPE.test(type)) return next(new BridgeError(415, "M_NOT_JSON", "Content-Type must be application/json"));
    const charset = CHARSET.exec(type)?.[1];
    if (charset !== undefined && charset.toLowerCase() !== "utf-8") {
      return next(new BridgeError(415, "M_NOT_JSON", "the body must be UTF-8 (charset=utf-8, or no charset)"));
    }
    const encoding = (req.get("content-encoding") ?? "identity").trim().toLowerCase();
    if (encoding !== "identity" && encoding !== "") {
      return next(new BridgeError(415, "M_NOT_JSON", "Content-Encoding is not supported: send the JSON uncompressed"));
    }
    next();
  };
  return [check, parse];
}

/** Every failure as `{errcode, error}`: 4xx for what the request got wrong, 500 only for "try again". */
export function matrixErrors() {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const known = asBridgeError(error);
    if (known) {
      log.debug("request refused", { method: req.method, path: req.path, status: known.status, errcode: known.errcode, error: known.message });
    } else if (!(error instanceof RetryTransaction)) {
      // A bug of ours (a RetryTransaction was logged where it arose, without a stack).
      log.error("request failed", { method: req.method, path: req.path, error: (error as Error)?.stack ?? String(error) });
    }
    const answer = known ?? new BridgeError(500, "M_UNKNOWN", "Transaction could not be processed; retry");
    if (res.headersSent) return void res.end();
    res.status(answer.status).json(answer.toJSON());
  };
}

function asBridgeError(error: unknown): BridgeError | undefined {
  if (error instanceof BridgeError) return error;
  if (error instanceof BadTransaction) return new BridgeError(400, "M_BAD_JSON", error.message);
  switch (bodyProblemOf(error)) {
    case "too_large": return new BridgeError(413, "M_TOO_LARGE", "the request body is too large");
    case "bad_json": return new BridgeError(400, "M_NOT_JSON", "the request body is not valid JSON");
    case "bad_encoding": return new BridgeError(415, "M_NOT_JSON", "the body must be UTF-8 JSON without Content-Encoding");
    case "unreadable": return new BridgeError(400, "M_BAD_JSON", "the request body could not be read");
    default: break;
  }
  // express's own client errors (a path that does not decode, …).
  const status = (error as { status?: unknown; expose?: unknown } | null)?.status;
  if (typeof status === "number" && status >= 400 && status < 500) return new BridgeError(status, "M_INVALID_PARAM", "the request could not be understood");
  return undefined;
}
