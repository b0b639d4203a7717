import { RequestHandler } from "express";

/**
 * The page's own security headers, on everything under /call/ (errors
 * included). The page runs only its own script file (no inline script, so no
 * hash or nonce is needed), talks only to its own origin (the WebCall
 * endpoint is on the same listener), and keeps what it knows: no referrer
 * leaves it, it cannot be framed, and it sets no cookie (nothing here does).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "media-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const pageHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
  // The microphone for this page only, when Call is pressed; nothing else.
  res.setHeader("Permissions-Policy", "microphone=(self), camera=(), geolocation=(), payment=(), usb=()");
  next();
};
