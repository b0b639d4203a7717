import express, { Request, RequestHandler } from "express";
import rateLimit from "express-rate-limit";
import { Config } from "../config/schema";
import { DomainError } from "../errors/DomainError";
import { tryParseSessionId } from "../ids/session";
import { jsonContentTypeProblem } from "../protocol/contentType";
import { SIGNATURE_HEADER } from "../signing/requestSignature";
import { RequestVerifier } from "../signing/RequestVerifier";
import { bearerToken } from "../util/bearer";
import { MonotonicClock } from "../util/monotonicClock";
import { clientKey } from "./clientKey";

/** What a request must get past before a route handles it: the rate limit,
 *  a JSON body, a good signature (if any), a session id and a token. */

type WebCallConfig = Config["webcall"];

const TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

export function rateLimiter(config: WebCallConfig): RequestHandler {
  return clientRateLimit(config.rateLimit.windowMs, config.rateLimit.max);
}

/** `max` requests per client address (clientKey) per `windowMs`, those that
 *  `skip` passes not counted; beyond it, 429 with Retry-After. */
export function clientRateLimit(windowMs: number, max: number, skip?: (req: Request) => boolean): RequestHandler {
  return rateLimit({
    windowMs,
    limit: max,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    keyGenerator: (req) => clientKey(req),
    ...(skip ? { skip } : {}),
    handler: (req, _res, next) => {
      const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = Math.max(1, Math.ceil(((reset?.getTime() ?? Date.now() + windowMs) - Date.now()) / 1000));
      next(new DomainError("WEBCALL_RATE_LIMITED", "too many requests; retry later", seconds));
    },
  });
}

/** The Content-Type check, then the body parser. */
export function jsonBody(maxBodyBytes: number): RequestHandler {
  const json = express.json({ limit: maxBodyBytes, strict: true, inflate: false, type: () => true });
  return (req, res, next) => {
    // (req.is() would say "no" for an empty body; an empty body is a 400, not a 415)
    const problem = jsonContentTypeProblem(req.get("content-type"));
    if (problem) {
      next(new DomainError("WEBCALL_BAD_CONTENT_TYPE", problem));
      return;
    }
    json(req, res, next);
  };
}

/** Checks a WebCall-Signature, if the request has one, and notes its origin. */
export function signedBy(verifier: RequestVerifier, clock: MonotonicClock): RequestHandler {
  return (req, _res, next) => {
    const started = clock.now();
    verifier.verify({ method: req.method, uri: req.originalUrl, header: req.get(SIGNATURE_HEADER), content: req.body })
      .then((signer) => {
        if (req.ctx) req.ctx = { ...req.ctx, signer, signatureCheckMs: clock.now() - started };
        next();
      }, next);
  };
}

export const sessionParam: RequestHandler = (req, _res, next) => {
  if (!tryParseSessionId(req.params.id)) {
    next(new DomainError("WEBCALL_BAD_REQUEST", "path/sessionId must be 16-255 characters of A-Z a-z 0-9 . _ ~ -"));
    return;
  }
  next();
};

/** The session's Bearer token, well-formed, into res.locals.token (the node says whether it is this session's). */
export const bearer: RequestHandler = (req, res, next) => {
  const token = bearerToken(req.get("authorization"));
  if (token === undefined) {
    next(new DomainError("WEBCALL_MISSING_TOKEN", "Authorization: Bearer <token> is required"));
    return;
  }
  if (token.length < 22 || token.length > 512 || !TOKEN.test(token)) {
    next(new DomainError("WEBCALL_BAD_TOKEN", "the token is not valid for this session"));
    return;
  }
  res.locals.token = token;
  next();
};
