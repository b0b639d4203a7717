import http from "node:http";

/** Every listener's limits on a slow client: the whole headers within 15 s,
 *  the whole request (headers and body) within 30 s. */
export const LISTENER_TIMEOUTS = { headersMs: 15_000, requestMs: 30_000 };
export type ListenerTimeouts = typeof LISTENER_TIMEOUTS;

/**
 * An HTTP server for `handler` with those timeouts (a slow client gets 408
 * and is dropped). Node checks them once per `connectionsCheckingInterval`,
 * 30 s by default, which would let a slow client stay up to twice as long:
 * here a fifth of the headers timeout, at most 1 s.
 */
export function listenerServer(handler: http.RequestListener, timeouts: ListenerTimeouts = LISTENER_TIMEOUTS): http.Server {
  const connectionsCheckingInterval = Math.max(20, Math.min(1000, Math.floor(timeouts.headersMs / 5)));
  const server = http.createServer({ connectionsCheckingInterval }, handler);
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.requestMs;
  return server;
}
