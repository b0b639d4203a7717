import { RequestHandler } from "express";

/**
 * CORS for the WebCall listener. A page on any origin may call this node (a
 * browser caller, a call link page): nothing here rests on ambient
 * credentials — the session token is an `Authorization: Bearer` header and a
 * node proves itself with `WebCall-Signature`, never with a cookie — so every
 * origin is allowed (`*`) and credentials never are. docs/webcall-protocol.md
 * ("Browsers and CORS") is the contract.
 */

/** Request headers a caller may send besides the CORS-safelisted ones. */
export const CORS_ALLOW_HEADERS = "Content-Type, Authorization, Last-Event-ID, WebCall-Signature, X-Request-Id";
/** Response headers a page may read besides the safelisted ones. */
export const CORS_EXPOSE_HEADERS = "X-Request-Id, Retry-After, WWW-Authenticate, Allow, RateLimit, RateLimit-Policy";
/** How long a browser may keep a preflight's answer (Chromium caps it at 2 h). */
export const CORS_MAX_AGE_S = 7200;

/** On every response, errors included: a page can read an error body only if
 *  the response allows its origin. */
export const corsHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader("Access-Control-Allow-Origin", "*");
  res.setHeader("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
  next();
};

/** Answers a preflight (OPTIONS) for a route served with `methods`, e.g. "GET, POST". */
export function preflight(methods: string): RequestHandler {
  return (_req, res) => {
    res.setHeader("Allow", `${methods}, OPTIONS`);
    res.setHeader("Access-Control-Allow-Methods", methods);
    res.setHeader("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
    res.setHeader("Access-Control-Max-Age", String(CORS_MAX_AGE_S));
    res.status(204).end();
  };
}
