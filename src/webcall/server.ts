import express, { RequestHandler } from "express";
import { Config } from "../config/schema";
import { logger } from "../log";
import { schemas, validateEventsRequest, validateSetupRequest } from "../protocol/validate";
import { NodeKeys } from "../signing/NodeKeys";
import { RequestVerifier } from "../signing/RequestVerifier";
import { DomainError } from "../errors/DomainError";
import { listenerServer } from "../util/listenerServer";
import { MonotonicClock, systemClock } from "../util/monotonicClock";
import { calendarRoute, CalendarSource } from "./calendarRoute";
import { corsHeaders, preflight } from "./cors";
import { eventStream } from "./eventStream";
import { anonymousCallLimiter, callPageRouter, CallPageOptions } from "./callPage/routes";
import { bearer, jsonBody, rateLimiter, sessionParam, signedBy } from "./guards";
import { errorHandler, methodNotAllowed, notFound } from "./httpErrors";
import { longPoll, PullContext } from "./longPoll";
import { pullPosition } from "./pullPosition";
import { requestContext, ctxOf } from "./requestContext";
import { handle, inTime, send } from "./respond";
import { WebCallNode } from "./WebCallNode";

/**
 * The public WebCall/1 listener: HTTP, JSON, schemas, limits and streaming.
 * Sessions themselves are the WebCallNode's business.
 *
 *   POST {path}                          call setup
 *   POST {path}/sessions/{id}/events     event delivery (Bearer token)
 *   GET  {path}/sessions/{id}/events     pull: SSE or long poll (Bearer token)
 *   GET  {path}/schemas/{name}           the published JSON Schemas
 *   GET  {path}/keys                     this node's public signing keys
 *   GET  {path}/calendar/{rota}/{secret}.ics  a rota's shifts (calendarRoute.ts)
 *   OPTIONS on each of them              CORS preflight (cors.ts)
 *   GET  /call/{who} …                   the call link page (callPage/routes.ts)
 *
 * POSTs may carry a WebCall-Signature (docs/webcall-signing.md): a good one
 * tells the node who sent the request, a bad one is refused with 401.
 *
 * where {path} is the path of `publicUrl`.
 */

export interface WebCallServer {
  app: express.Express;
  listen(): Promise<{ port: number }>;
  close(): Promise<void>;
}

/** This node's signatures: the keys it publishes and the check of others'. */
export interface WebCallSigning {
  keys: NodeKeys;
  verifier: RequestVerifier;
}

/** Knobs for tests; production uses the defaults. */
export interface WebCallServerOptions {
  /** Interval of SSE comment heartbeats (default 15 s). */
  heartbeatMs?: number;
  /** What `receivedAt` and `signatureCheckMs` are read from: the node times
   *  its neutral answers on the same clock (default: performance.now()). */
  clock?: MonotonicClock;
  /** The call link page, when the bridge serves it. */
  callPage?: Omit<CallPageOptions, "clock" | "endpointPath">;
  /** Rotas' calendar feeds; without it the route is not served. */
  calendar?: CalendarSource;
}

type WebCallConfig = Config["webcall"];

const log = logger("webcall.http");

export function createWebCallServer(node: WebCallNode, config: WebCallConfig, signing: WebCallSigning,
  options: WebCallServerOptions = {}): WebCallServer {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const clock = options.clock ?? systemClock;
  const base = new URL(config.publicUrl).pathname.replace(/\/+$/, ""); // "" or "/x/y"
  const root = base || "/";
  const pull: PullContext = { node, live: new Set() };

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  // One trusted hop: behind our own reverse proxy, the client is the address
  // that proxy appended last; anything further left could be forged.
  app.set("trust proxy", config.trustProxy ? 1 : false);

  app.use(requestContext(clock));
  app.use(corsHeaders);
  app.use(rateLimiter(config));

  const requireJson = jsonBody(config.maxBodyBytes);
  const signed = signedBy(signing.verifier, clock);
  const callPage = options.callPage?.config.enabled ? options.callPage : undefined;
  const noteAnonymousCall: RequestHandler = callPage ? anonymousCallLimiter(callPage.config) : (_req, _res, next) => next();

  // ---- call setup ---------------------------------------------------------

  app.route(root)
    .post(requireJson, signed, noteAnonymousCall, handle(async (req, res) => {
      const request = validateSetupRequest(req.body);
      const response = await inTime(req, node.setup(request, ctxOf(req)), config.requestTimeoutMs);
      send(req, res, "setup-response", response);
    }))
    .options(preflight("POST"))
    .all(methodNotAllowed("POST"));

  // ---- session events -----------------------------------------------------

  app.route(`${base}/sessions/:id/events`)
    .post(sessionParam, bearer, requireJson, signed, handle(async (req, res) => {
      const events = validateEventsRequest(req.body);
      await inTime(req, node.deliver(String(req.params.id), res.locals.token as string, events, ctxOf(req)), config.requestTimeoutMs);
      send(req, res, "events-response", {});
    }))
    .get(sessionParam, bearer, handle(async (req, res) => {
      const sessionId = String(req.params.id);
      const token = res.locals.token as string;
      const since = pullPosition(req);
      if ((req.get("accept") ?? "").includes("text/event-stream")) {
        await eventStream(pull, heartbeatMs, req, res, sessionId, token, since);
      } else {
        await longPoll(pull, config.pollTimeoutMs, req, res, sessionId, token, since);
      }
    }))
    .options(preflight("GET, POST"))
    .all(methodNotAllowed("GET, POST"));

  // ---- keys ---------------------------------------------------------------

  app.route(`${base}/keys`)
    // no-store (the listener's default): a receiver that meets a key id it
    // does not know fetches again and must see a rotation at once; how long
    // to keep the answer is the body's valid_until (docs/webcall-signing.md §1).
    .get((req, res) => {
      send(req, res, "keys-response", signing.keys.document());
    })
    .options(preflight("GET"))
    .all(methodNotAllowed("GET"));

  // ---- schemas --------------------------------------------------------------

  app.route(`${base}/schemas/:name`)
    .get((req, res, next) => {
      const name = String(req.params.name);
      const schema = Object.hasOwn(schemas, name) ? schemas[name] : undefined;
      if (!schema) {
        next(new DomainError("WEBCALL_NOT_FOUND", "no such schema"));
        return;
      }
      res.setHeader("Cache-Control", "public, max-age=3600");
      res.type("application/schema+json").send(JSON.stringify(schema, null, 2));
    })
    .options(preflight("GET"))
    .all(methodNotAllowed("GET"));

  if (options.calendar) app.use(calendarRoute(base, options.calendar));

  // ---- the call link page ---------------------------------------------------

  if (callPage) app.use("/call", callPageRouter({ ...callPage, clock, endpointPath: root }));

  // ---- errors -------------------------------------------------------------

  app.use(notFound);
  app.use(errorHandler);

  const server = listenerServer(app);
  server.keepAliveTimeout = 30_000;

  return {
    app,
    listen: () => new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.bind, () => {
        server.off("error", reject);
        const address = server.address();
        const port = typeof address === "object" && address ? address.port : config.port;
        log.info("WebCall listener ready", { bind: config.bind, port, path: root });
        resolve({ port });
      });
    }),
    close: () => new Promise((resolve, reject) => {
      for (const end of [...pull.live]) end();
      if (!server.listening) { resolve(); return; }
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeIdleConnections();
      setImmediate(() => server.closeAllConnections());
    }),
  };
}
