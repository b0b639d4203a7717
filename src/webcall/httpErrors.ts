import { RequestHandler } from "express";
import { BridgeError } from "../errors";
import { bodyProblemOf } from "../util/bodyProblems";

/** The WebCall listener's own errors, and the body parser's turned into ours. */

/** 405 for a route served with `methods` (OPTIONS, the CORS preflight, is always served too). */
export function methodNotAllowed(methods: string): RequestHandler {
  const allow = `${methods}, OPTIONS`;
  return (_req, res, next) => {
    res.setHeader("Allow", allow);
    next(new BridgeError(405, "WEBCALL_METHOD_NOT_ALLOWED", `method not allowed; use ${methods}`));
  };
}

export function sessionOver(): BridgeError {
  return new BridgeError(410, "WEBCALL_SESSION_OVER", "the session is over and all its events were delivered");
}

/** BridgeErrors, plus the body parser's errors turned into ours. */
export function asBridgeError(error: unknown): BridgeError | undefined {
  if (error instanceof BridgeError) return error;
  switch (bodyProblemOf(error)) {
    case "too_large": return new BridgeError(413, "WEBCALL_TOO_LARGE", "the request body is too large");
    case "bad_json": return new BridgeError(400, "WEBCALL_BAD_JSON", "the request body is not a JSON object or array");
    case "bad_encoding": return new BridgeError(415, "WEBCALL_BAD_CONTENT_TYPE", "the body must be UTF-8 JSON without content encoding");
    case "unreadable": return new BridgeError(400, "WEBCALL_BAD_REQUEST", "the request body could not be read");
    default: return undefined;
  }
}
