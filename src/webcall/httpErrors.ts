import { NextFunction, Request, RequestHandler, Response } from "express";
import { DomainError } from "../errors/DomainError";
import { httpAnswer, HttpAnswer } from "../errors/httpAnswer";
import { logger } from "../log";
import { checkResponse } from "../protocol/validate";
import { bodyProblemOf } from "../util/bodyProblems";
import { ctxOf } from "./requestContext";

/**
 * The WebCall listener's boundary for errors: domain errors become their
 * catalogue status and `{errcode, error}` here (src/errors/catalogue.ts),
 * the body parser's failures become ours, and anything else is a logged 500
 * WEBCALL_INTERNAL with nothing of it sent.
 */

const log = logger("webcall.http");

export const INTERNAL = { errcode: "WEBCALL_INTERNAL", error: "internal error" } as const;

/** 405 for a route served with `methods` (OPTIONS, the CORS preflight, is always served too). */
export function methodNotAllowed(methods: string): RequestHandler {
  const allow = `${methods}, OPTIONS`;
  return (_req, res, next) => {
    res.setHeader("Allow", allow);
    next(new DomainError("WEBCALL_METHOD_NOT_ALLOWED", `method not allowed; use ${methods}`));
  };
}

export function sessionOver(): DomainError {
  return new DomainError("WEBCALL_SESSION_OVER", "the session is over and all its events were delivered");
}

/** DomainErrors, plus the body parser's errors turned into ours. */
export function asDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  switch (bodyProblemOf(error)) {
    case "too_large": return new DomainError("WEBCALL_TOO_LARGE", "the request body is too large");
    case "bad_json": return new DomainError("WEBCALL_BAD_JSON", "the request body is not a JSON object or array");
    case "bad_encoding": return new DomainError("WEBCALL_BAD_CONTENT_TYPE", "the body must be UTF-8 JSON without content encoding");
    case "unreadable": return new DomainError("WEBCALL_BAD_REQUEST", "the request body could not be read");
    default: return undefined;
  }
}

/** What the WebCall listener answers for `error`, if it is one of its own
 *  problems and its body is a valid error body; else undefined (a 500). */
export function webcallAnswer(error: unknown): HttpAnswer | undefined {
  const known = asDomainError(error);
  const answer = known && httpAnswer("webcall", known);
  return answer && checkResponse("error", answer.body)[0] ? answer : undefined;
}

export const notFound: RequestHandler = (_req, _res, next) => next(new DomainError("WEBCALL_NOT_FOUND", "no such endpoint"));

/** The error middleware, last in the chain. */
export function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const { requestId } = ctxOf(req);
  const answer = webcallAnswer(error);
  if (answer) {
    const { status, body } = answer;
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
    if (status >= 500) log.warn("request failed", { requestId, status, errcode: body.errcode, error: body.error });
    else log.debug("request refused", { requestId, status, errcode: body.errcode, error: body.error });
  } else {
    log.error("request failed", { requestId, method: req.method, path: req.path, error: (error as Error)?.stack ?? String(error) });
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(answer?.status ?? 500).json(answer?.body ?? INTERNAL);
}
