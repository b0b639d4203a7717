import express from "express";
import http from "node:http";
import { timingSafeEqual } from "node:crypto";
import { logger } from "../log";
import { Store } from "../store/Store";

const log = logger("appservice");
/** Handled event ids kept (in memory and in the store): far more than one
 *  transaction the homeserver could retry after the bridge crashed mid-way. */
const REMEMBERED_EVENTS = 10_000;
/** The store's list is trimmed back to REMEMBERED_EVENTS this often (in events recorded). */
const PRUNE_EVERY = 1_000;

/** A room event as the homeserver pushes it. Only the fields the bridge reads
 *  are typed; everything else is checked where it is used. */
export interface PushedEvent {
  type: string;
  event_id: string;
  room_id: string;
  sender: string;
  state_key?: string;
  origin_server_ts?: number;
  content: Record<string, unknown>;
  unsigned?: { age?: number };
}

export interface AppserviceListenerOptions {
  hsToken: string;
  bind: string;
  port: number;
  maxBodyBytes: number;
  /** Whether the bridge acts on an event at all (its own echoes it does not). */
  isRelevant: (event: PushedEvent) => boolean;
  /** Events whose handling is not idempotent (bot commands): recorded as
   *  handled before they are handled, so a crash mid-way drops one rather
   *  than running it twice. Every other event is recorded after it was
   *  handled, and its handler must tolerate a second delivery (the call
   *  core's conditional state transitions do). */
  atMostOnce: (event: PushedEvent) => boolean;
  onEvent: (event: PushedEvent, receivedAt: number) => Promise<void>;
  /** The homeserver asks whether a user in our namespace exists (e.g. before
   *  someone invites it); true once it has been provisioned. */
  onUserQuery: (userId: string) => Promise<boolean>;
  /** GET /health: what the bridge knows of its link with the homeserver (no token needed). */
  health: () => Record<string, unknown>;
}

/**
 * The appservice API the homeserver pushes to. Unlike the bridge library's
 * AppService, a transaction is acknowledged only after all its events were
 * handled (so a crash mid-transaction makes the homeserver retry it), and
 * each event's id is remembered in the store (so a retry is not replayed).
 * Transaction ids are not remembered: Synapse numbers them from the highest
 * one still pending + 1, so they start again from 1 after it restarts.
 */
export class AppserviceListener {
  private server?: http.Server;
  readonly app = express();
  /** Handled event ids, newest last; preloaded from the store at start. */
  private readonly handled = new Set<string>();
  private recordedSincePrune = 0;

  constructor(private readonly options: AppserviceListenerOptions, private readonly store: Store) {
    const app = this.app;
    app.disable("x-powered-by");
    app.use(express.json({ limit: options.maxBodyBytes }));
    app.get("/health", (_req, res) => { res.json(options.health()); });
    app.use((req, res, next) => this.authorise(req, res, next));
    const transactions = (req: express.Request, res: express.Response, next: express.NextFunction) => {
      this.onTransaction(String(req.params.txnId), req.body).then(() => res.json({}), next);
    };
    app.put("/_matrix/app/v1/transactions/:txnId", transactions);
    app.put("/transactions/:txnId", transactions);
    app.post("/_matrix/app/v1/ping", (_req, res) => { res.json({}); });
    app.get(["/_matrix/app/v1/users/:userId", "/users/:userId"], (req, res, next) => {
      options.onUserQuery(String(req.params.userId)).then((exists) => exists ? void res.json({}) : notFound(res), next);
    });
    app.get(["/_matrix/app/v1/rooms/:alias", "/rooms/:alias"], (_req, res) => { notFound(res); });
    app.use((_req: express.Request, res: express.Response) => {
      res.status(404).json({ errcode: "M_UNRECOGNIZED", error: "Unrecognized request" });
    });
    app.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      if (err.type === "entity.parse.failed") return void res.status(400).json({ errcode: "M_NOT_JSON", error: "Body is not valid JSON" });
      if (err.type === "entity.too.large") return void res.status(413).json({ errcode: "M_TOO_LARGE", error: "Transaction too large" });
      log.error("transaction failed; the homeserver will retry it", { error: err.message, stack: err.stack });
      res.status(500).json({ errcode: "M_UNKNOWN", error: "Transaction could not be processed" });
    });
  }

  async listen(): Promise<number> {
    await this.store.pruneHandledEvents(REMEMBERED_EVENTS);
    for (const eventId of (await this.store.recentHandledEvents(REMEMBERED_EVENTS)).reverse()) this.handled.add(eventId);
    this.server = http.createServer(this.app);
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.options.port, this.options.bind, resolve);
    });
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private authorise(req: express.Request, res: express.Response, next: express.NextFunction): void {
    const header = req.headers.authorization;
    const provided = header?.startsWith("Bearer ") ? header.slice(7) : typeof req.query.access_token === "string" ? req.query.access_token : undefined;
    if (provided === undefined) {
      res.status(401).json({ errcode: "M_UNAUTHORIZED", error: "Missing homeserver token" });
      return;
    }
    if (!sameSecret(provided, this.options.hsToken)) {
      res.status(403).json({ errcode: "M_FORBIDDEN", error: "Bad homeserver token" });
      return;
    }
    next();
  }

  private async onTransaction(txnId: string, body: unknown): Promise<void> {
    const events = (body as { events?: unknown })?.events;
    if (!Array.isArray(events)) throw Object.assign(new Error("events must be a list"), { type: "entity.parse.failed" });
    const receivedAt = Date.now();
    const relevant = events.filter((event): event is PushedEvent => {
      if (isPushedEvent(event)) return this.options.isRelevant(event);
      log.warn("ignoring malformed event in transaction", { txnId });
      return false;
    });
    // Most transactions only echo the bridge's own events: no store round trip for those.
    // A homeserver retries its oldest undelivered transaction, so a retried
    // event is always among the recent ids kept in memory.
    const handledAfter: string[] = [];
    for (const event of relevant) {
      if (this.handled.has(event.event_id)) continue;
      if (this.options.atMostOnce(event)) {
        const claimed = (await this.store.markEventsHandled([event.event_id])).length > 0;
        this.remember([event.event_id]);
        if (claimed) await this.options.onEvent(event, receivedAt);
      } else {
        await this.options.onEvent(event, receivedAt);
        handledAfter.push(event.event_id);
      }
    }
    if (handledAfter.length > 0) {
      await this.store.markEventsHandled(handledAfter);
      this.remember(handledAfter);
    }
  }

  private remember(eventIds: readonly string[]): void {
    for (const id of eventIds) this.handled.add(id);
    while (this.handled.size > REMEMBERED_EVENTS) this.handled.delete(this.handled.values().next().value!);
    this.recordedSincePrune += eventIds.length;
    if (this.recordedSincePrune >= PRUNE_EVERY) {
      this.recordedSincePrune = 0;
      this.store.pruneHandledEvents(REMEMBERED_EVENTS)
        .catch((err: Error) => log.warn("could not trim the handled events list", { error: err.message }));
    }
  }
}

function isPushedEvent(e: unknown): e is PushedEvent {
  const ev = e as PushedEvent;
  return typeof ev === "object" && ev !== null && typeof ev.type === "string" && typeof ev.event_id === "string"
    && typeof ev.room_id === "string" && typeof ev.sender === "string" && typeof ev.content === "object" && ev.content !== null;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function notFound(res: express.Response): void {
  res.status(404).json({ errcode: "M_NOT_FOUND", error: "No such user or room" });
}
