import { Request, RequestHandler, Response } from "express";
import { DomainError } from "../errors/DomainError";
import { logger } from "../log";
import { checkResponse, ResponseKind } from "../protocol/validate";
import { INTERNAL } from "./httpErrors";
import { ctxOf } from "./requestContext";

/** How a route answers: async handlers, schema-checked bodies, a time limit. */

const log = logger("webcall.http");

/** Express 4 does not catch rejected promises: route them to the error middleware. */
export function handle(fn: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req, res, next) => { fn(req, res).catch(next); };
}

/** Sends a body after checking it against its schema; a body that fails is
 *  our bug, so the client gets a plain 500 and the log gets the details. */
export function send(req: Request, res: Response, kind: ResponseKind, body: unknown): void {
  const [ok, problem] = checkResponse(kind, body);
  if (!ok) {
    log.error("refusing to send a response that fails its schema", { requestId: ctxOf(req).requestId, kind, problem });
    res.status(500).json(INTERNAL);
    return;
  }
  res.status(200).json(body);
}

/** The node's answer, or 503 after `timeoutMs` (its work may still finish:
 *  retries are idempotent by design). */
export function inTime<T>(req: Request, work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      log.warn("node did not answer in time", { requestId: ctxOf(req).requestId, path: req.path, ms: timeoutMs });
      reject(new DomainError("WEBCALL_UNAVAILABLE", "temporarily unable to answer; retry", 1));
    }, timeoutMs);
  });
  work.catch(() => undefined); // a late failure after the 503 must not go unhandled
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
