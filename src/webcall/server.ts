import { randomUUID } from "node:crypto";
import express, { NextFunction, Request, RequestHandler, Response } from "express";
import rateLimit from "express-rate-limit";
import { Config } from "../config/schema";
import { BridgeError } from "../errors";
import { bearerToken } from "../util/bearer";
import { listenerServer } from "../util/listenerServer";
import { MonotonicClock, systemClock } from "../util/monotonicClock";
import { tryParseSessionId } from "../ids/session";
import { logger } from "../log";
import { NodeKeys } from "../signing/NodeKeys";
import { SIGNATURE_HEADER } from "../signing/requestSignature";
import { RequestVerifier } from "../signing/RequestVerifier";
import { clientKey } from "./clientKey";
import { jsonContentTypeProblem } from "../protocol/contentType";
import { corsHeaders, preflight } from "./cors";
import { asBridgeError, methodNotAllowed, sessionOver } from "./httpErrors";
import { SessionEvent } from "../protocol/types";
import { pullPosition, pullWaitMs } from "./pullPosition";
import { checkResponse, ResponseKind, schemas, validateEventsRequest, validateSetupRequest } from "../protocol/validate";
import { RequestContext, WebCallNode } from "./WebCallNode";

/**
 * The public WebCall/1 listener: HTTP, JSON, schemas, limits and streaming.
 * Sessions themselves are the WebCallNode's business.
 *
 *   POST {path}                          call setup
 *   POST {path}/sessions/{id}/events     event delivery (Bearer token)
 *   GET  {path}/sessions/{id}/events     pull: SSE or long poll (Bearer token)
 *   GET  {path}/schemas/{name}           the published JSON Schemas
 *   GET  {path}/keys                     this node's public signing keys
 *   OPTIONS on each of them              CORS preflight (cors.ts)
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
}

type WebCallConfig = Config["webcall"];

const log = logger("webcall.http");

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

declare module "express-serve-static-core" {
  interface Request {
    ctx?: RequestContext;
  }
}

/** Express 4 does not catch rejected promises: route them to the error middleware. */
function handle(fn: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req, res, next) => { fn(req, res).catch(next); };
}

export function createWebCallServer(node: WebCallNode, config: WebCallConfig, signing: WebCallSigning,
  options: WebCallServerOptions = {}): WebCallServer {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const clock = options.clock ?? systemClock;
  const base = new URL(config.publicUrl).pathname.replace(/\/+$/, ""); // "" or "/x/y"
  const root = base || "/";

  /** Open SSE streams and long polls, ended on close(). */
  const live = new Set<() => void>();

  function ctxOf(req: Request): RequestContext {
    return req.ctx ?? { requestId: "-", receivedAt: clock.now() };
  }

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  // One trusted hop: behind our own reverse proxy, the client is the address
  // that proxy appended last; anything further left could be forged.
  app.set("trust proxy", config.trustProxy ? 1 : false);

  app.use((req, res, next) => {
    const receivedAt = clock.now();
    const given = req.get("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.ctx = { requestId, receivedAt };
    res.setHeader("X-Request-Id", requestId);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Cache-Control", "no-store");
    if (log.isDebugEnabled()) {
      const started = Date.now();
      res.on("finish", () => log.debug("request", {
        requestId, method: req.method, path: req.path, status: res.statusCode, ms: Date.now() - started,
      }));
    }
    next();
  });

  app.use(corsHeaders);

  app.use(rateLimit({
    windowMs: config.rateLimit.windowMs,
    limit: config.rateLimit.max,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    keyGenerator: (req) => clientKey(req),
    handler: (req, _res, next) => {
      const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = Math.max(1, Math.ceil(((reset?.getTime() ?? Date.now() + config.rateLimit.windowMs) - Date.now()) / 1000));
      next(new BridgeError(429, "WEBCALL_RATE_LIMITED", "too many requests; retry later", { "Retry-After": String(seconds) }));
    },
  }));

  const json = express.json({ limit: config.maxBodyBytes, strict: true, inflate: false, type: () => true });
  const requireJson: RequestHandler = (req, res, next) => {
    // (req.is() would say "no" for an empty body; an empty body is a 400, not a 415)
    const problem = jsonContentTypeProblem(req.get("content-type"));
    if (problem) {
      next(new BridgeError(415, "WEBCALL_BAD_CONTENT_TYPE", problem));
      return;
    }
    json(req, res, next);
  };

  /** Checks a WebCall-Signature, if the request has one, and notes its origin. */
  const signed: RequestHandler = (req, _res, next) => {
    const started = clock.now();
    signing.verifier.verify({ method: req.method, uri: req.originalUrl, header: req.get(SIGNATURE_HEADER), content: req.body })
      .then((signer) => {
        if (req.ctx) req.ctx = { ...req.ctx, signer, signatureCheckMs: clock.now() - started };
        next();
      }, next);
  };

  const sessionParam: RequestHandler = (req, _res, next) => {
    if (!tryParseSessionId(req.params.id)) {
      next(new BridgeError(400, "WEBCALL_BAD_REQUEST", "path/sessionId must be 16-255 characters of A-Z a-z 0-9 . _ ~ -"));
      return;
    }
    next();
  };

  const bearer: RequestHandler = (req, res, next) => {
    const token = bearerToken(req.get("authorization"));
    if (token === undefined) {
      next(new BridgeError(401, "WEBCALL_MISSING_TOKEN", "Authorization: Bearer <token> is required", { "WWW-Authenticate": "Bearer" }));
      return;
    }
    if (token.length < 22 || token.length > 512 || !TOKEN.test(token)) {
      next(new BridgeError(401, "WEBCALL_BAD_TOKEN", "the token is not valid for this session", { "WWW-Authenticate": "Bearer error=\"invalid_token\"" }));
      return;
    }
    res.locals.token = token;
    next();
  };

  /** Sends a body after checking it against its schema; a body that fails is
   *  our bug, so the client gets a plain 500 and the log gets the details. */
  function send(req: Request, res: Response, kind: ResponseKind, body: unknown): void {
    const [ok, problem] = checkResponse(kind, body);
    if (!ok) {
      log.error("refusing to send a response that fails its schema", { requestId: ctxOf(req).requestId, kind, problem });
      res.status(500).json({ errcode: "WEBCALL_INTERNAL", error: "internal error" });
      return;
    }
    res.status(200).json(body);
  }

  /** The node's answer, or 503 after requestTimeoutMs (its work may still finish:
   *  retries are idempotent by design). */
  function inTime<T>(req: Request, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        log.warn("node did not answer in time", { requestId: ctxOf(req).requestId, path: req.path, ms: config.requestTimeoutMs });
        reject(new BridgeError(503, "WEBCALL_UNAVAILABLE", "temporarily unable to answer; retry", { "Retry-After": "1" }));
      }, config.requestTimeoutMs);
    });
    work.catch(() => undefined); // a late failure after the 503 must not go unhandled
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  // ---- call setup ---------------------------------------------------------

  app.route(root)
    .post(requireJson, signed, handle(async (req, res) => {
      const request = validateSetupRequest(req.body);
      const response = await inTime(req, node.setup(request, ctxOf(req)));
      send(req, res, "setup-response", response);
    }))
    .options(preflight("POST"))
    .all(methodNotAllowed("POST"));

  // ---- session events -----------------------------------------------------

  app.route(`${base}/sessions/:id/events`)
    .post(sessionParam, bearer, requireJson, signed, handle(async (req, res) => {
      const events = validateEventsRequest(req.body);
      await inTime(req, node.deliver(String(req.params.id), res.locals.token as string, events, ctxOf(req)));
      send(req, res, "events-response", {});
    }))
    .get(sessionParam, bearer, handle(async (req, res) => {
      const sessionId = String(req.params.id);
      const token = res.locals.token as string;
      const since = pullPosition(req);
      if ((req.get("accept") ?? "").includes("text/event-stream")) {
        await stream(req, res, sessionId, token, since);
      } else {
        await longPoll(req, res, sessionId, token, since);
      }
    }))
    .options(preflight("GET, POST"))
    .all(methodNotAllowed("GET, POST"));

  async function longPoll(req: Request, res: Response, sessionId: string, token: string, since: number): Promise<void> {
    const timeoutMs = pullWaitMs(req, config.pollTimeoutMs);
    // Subscribe before the first read, so an event queued in between still wakes us.
    let woken = false;
    let wake: () => void = () => { woken = true; };
    const unsubscribe = node.subscribe(sessionId, () => wake());
    let stop: () => void = () => undefined;
    try {
      let batch = await node.eventsSince(sessionId, token, since);
      while (batch.events.length === 0 && !batch.over) {
        const woke = await new Promise<boolean>((resolve) => {
          if (woken) { woken = false; resolve(true); return; }
          const timer = setTimeout(() => stop(), timeoutMs);
          const cleanupWait = () => { clearTimeout(timer); live.delete(stop); res.off("close", stop); };
          wake = () => { cleanupWait(); resolve(true); };
          // Timeout, client gone or server closing: answer what we have (nothing).
          stop = () => { cleanupWait(); resolve(false); };
          live.add(stop);
          res.once("close", stop);
        });
        wake = () => { woken = true; };
        if (!woke) break;
        batch = await node.eventsSince(sessionId, token, batch.next);
      }
      if (batch.events.length === 0 && batch.over) throw sessionOver();
      send(req, res, "poll-response", { events: batch.events, next: batch.next });
    } finally {
      unsubscribe();
      live.delete(stop);
    }
  }

  async function stream(req: Request, res: Response, sessionId: string, token: string, since: number): Promise<void> {
    const { requestId } = ctxOf(req);
    let dirty = false;
    let pump: () => void = () => { dirty = true; };
    const unsubscribe = node.subscribe(sessionId, () => pump());
    let first;
    try {
      first = await node.eventsSince(sessionId, token, since);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    if (first.events.length === 0 && first.over) {
      unsubscribe();
      throw sessionOver();
    }

    res.status(200);
    res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
    res.setHeader("X-Accel-Buffering", "no");
    res.flushHeaders();
    res.write("retry: 2000\n\n");

    let closed = false;
    let busy = false;
    let next = since;
    const heartbeat = setInterval(() => res.write(": ping\n\n"), heartbeatMs);
    const end = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      live.delete(end);
      res.end();
    };
    live.add(end);
    res.on("close", end);

    /** Writes one batch; the cursor goes on its last event only, because the
     *  node gives one cursor per batch (events before it may be sent again
     *  after a reconnect; receivers deduplicate by event id). */
    const write = (batch: { events: SessionEvent[]; next: number; over: boolean }): void => {
      batch.events.forEach((event, i) => {
        const [ok, problem] = checkResponse("session-event", event);
        if (!ok) throw new Error(`session event fails its schema: ${problem}`);
        const last = i === batch.events.length - 1;
        res.write(`${last ? `id: ${batch.next}\n` : ""}data: ${JSON.stringify(event)}\n\n`);
      });
      next = batch.next;
      if (batch.over) end();
    };

    const run = async (): Promise<void> => {
      if (busy || closed) return;
      busy = true;
      try {
        while (dirty && !closed) {
          dirty = false;
          write(await node.eventsSince(sessionId, token, next));
        }
      } catch (error) {
        if (!closed) {
          if (error instanceof BridgeError && error.status < 500) {
            log.info("event stream ended", { requestId, sessionId, errcode: error.errcode });
          } else {
            log.error("event stream failed", { requestId, sessionId, error: (error as Error)?.stack ?? String(error) });
          }
          res.write(`event: error\ndata: ${JSON.stringify(error instanceof BridgeError && error.status < 500
            ? error.toJSON() : { errcode: "WEBCALL_INTERNAL", error: "internal error" })}\n\n`);
          end();
        }
      } finally {
        busy = false;
      }
    };
    pump = () => { dirty = true; void run(); };
    try {
      write(first);
    } catch (error) {
      dirty = false;
      log.error("event stream failed", { requestId, sessionId, error: (error as Error).stack });
      res.write(`event: error\ndata: ${JSON.stringify({ errcode: "WEBCALL_INTERNAL", error: "internal error" })}\n\n`);
      end();
      return;
    }
    if (dirty) void run();
  }

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
        next(new BridgeError(404, "WEBCALL_NOT_FOUND", "no such schema"));
        return;
      }
      res.setHeader("Cache-Control", "public, max-age=3600");
      res.type("application/schema+json").send(JSON.stringify(schema, null, 2));
    })
    .options(preflight("GET"))
    .all(methodNotAllowed("GET"));

  // ---- errors -------------------------------------------------------------

  app.use((_req, _res, next) => next(new BridgeError(404, "WEBCALL_NOT_FOUND", "no such endpoint")));

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { requestId } = ctxOf(req);
    const known = asBridgeError(error);
    let status = 500;
    let body = { errcode: "WEBCALL_INTERNAL", error: "internal error" };
    if (known && known.status >= 400 && known.status <= 599 && checkResponse("error", known.toJSON())[0]) {
      status = known.status;
      body = known.toJSON();
      for (const [name, value] of Object.entries(known.headers)) res.setHeader(name, value);
      if (status >= 500) log.warn("request failed", { requestId, status, errcode: body.errcode, error: body.error });
      else log.debug("request refused", { requestId, status, errcode: body.errcode, error: body.error });
    } else {
      log.error("request failed", { requestId, method: req.method, path: req.path, error: (error as Error)?.stack ?? String(error) });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json(body);
  });

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
      for (const end of [...live]) end();
      if (!server.listening) { resolve(); return; }
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeIdleConnections();
      setImmediate(() => server.closeAllConnections());
    }),
  };
}
