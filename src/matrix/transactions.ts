import { logger } from "../log";
import { Store } from "../store/Store";
import { parseEvent } from "./events/parse";
import { MatrixEvent } from "./events/types";
import { failureKind, failureReason } from "./failures";

const log = logger("appservice");
/** Handled event ids kept (in memory and in the store): far more than one
 *  transaction the homeserver could retry after the bridge crashed mid-way. */
const REMEMBERED_EVENTS = 10_000;
/** The store's list is trimmed back to REMEMBERED_EVENTS this often (in events recorded). */
const PRUNE_EVERY = 1_000;

/** A room event as the homeserver pushes it, before the edge has checked it
 *  (events/parse.ts): only its envelope's types are known. */
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

export interface EventHandlers {
  /** The bridge's own users (its bot and virtual users): their events are
   *  the bridge's own echoes, passed over before they are even parsed. */
  isOwnUser: (userId: string) => boolean;
  /** Whether the bridge acts on a checked event at all. */
  isRelevant: (event: MatrixEvent) => boolean;
  /** Events whose handling is not idempotent (bot commands): recorded as
   *  handled before they are handled, so a crash or a failure mid-way drops
   *  one rather than running it twice. Every other event is recorded as soon
   *  as it was handled, and its handler must tolerate a second delivery (the
   *  call core's conditional state transitions do). */
  atMostOnce: (event: MatrixEvent) => boolean;
  /** Only ever sees events that matched their schema, typed (events/types.ts). */
  onEvent: (event: MatrixEvent, receivedAt: number) => Promise<void>;
}

/** The body is not a transaction (no `events` list): 400, never retried to success. */
export class BadTransaction extends Error {}

/** An event failed for a reason that may pass: the transaction is answered
 *  500 so that the homeserver sends it again. */
export class RetryTransaction extends Error {}

/**
 * Runs the events of pushed transactions, each on its own. Each is first
 * checked against its schema and typed (events/parse.ts); one that does not
 * match is logged once, with what failed, and acknowledged: no handler sees
 * it, so none can half-apply it. A handler that
 * fails for a lasting reason (the homeserver refuses with a 4xx, the event
 * is malformed, a bug) is logged once and its event acknowledged; only a
 * passing failure (the store or the homeserver unreachable, 5xx, 429) fails
 * the transaction, and then the events that succeeded before it are already
 * recorded, so the retry does not run them again.
 *
 * Transaction ids are not remembered: Synapse numbers them from the highest
 * one still pending + 1, so they start again from 1 after it restarts.
 * Event ids are, in memory and in the store.
 */
export class Transactions {
  /** Handled event ids, newest last; preloaded from the store at start. */
  private readonly handled = new Set<string>();
  private recordedSincePrune = 0;

  constructor(private readonly handlers: EventHandlers, private readonly store: Store) {}

  async load(): Promise<void> {
    await this.store.pruneHandledEvents(REMEMBERED_EVENTS);
    for (const eventId of (await this.store.recentHandledEvents(REMEMBERED_EVENTS)).reverse()) this.handled.add(eventId);
  }

  async handle(txnId: string, body: unknown, receivedAt: number): Promise<void> {
    const events = (body as { events?: unknown } | null)?.events;
    if (!Array.isArray(events)) throw new BadTransaction("the body must be an object with an events list");
    // Most transactions only echo the bridge's own events: no parsing and
    // no store round trip for those. A homeserver retries its oldest
    // undelivered transaction, so a retried event is always among the
    // recent ids kept in memory.
    for (const raw of events) {
      if (!isPushedEvent(raw)) {
        log.warn("ignoring malformed event in transaction", { txnId, eventId: idOf(raw), type: typeOf(raw) });
        continue;
      }
      if (this.handlers.isOwnUser(raw.sender) || this.handled.has(raw.event_id)) continue;
      const parsed = parseEvent(raw as unknown as Record<string, unknown>);
      if (parsed.kind === "ignored") continue;
      if (parsed.kind === "refused") {
        log.warn("ignoring an event that does not match its schema", {
          txnId, eventId: raw.event_id.slice(0, 255), type: raw.type.slice(0, 255), roomId: raw.room_id.slice(0, 255), reason: parsed.reason,
        });
        // Recorded like a handled event, so a retry of this transaction does
        // not log it again (an id too long to be one is not kept).
        if (raw.event_id.length <= 255) await this.record(txnId, raw);
        continue;
      }
      const event = parsed.event;
      if (!this.handlers.isRelevant(event)) continue;
      if (this.handlers.atMostOnce(event)) await this.runOnce(txnId, raw, event, receivedAt);
      else await this.runAtLeastOnce(txnId, raw, event, receivedAt);
    }
  }

  /** Claimed first: whatever happens next, it is not run again. */
  private async runOnce(txnId: string, raw: PushedEvent, event: MatrixEvent, receivedAt: number): Promise<void> {
    const claimed = (await this.record(txnId, raw)).length > 0;
    if (!claimed) return;
    try {
      await this.handlers.onEvent(event, receivedAt);
    } catch (error) {
      // Failing the transaction would not run it again either: go on with the others.
      this.logLasting(txnId, raw, error, "event dropped: it is run at most once");
    }
  }

  private async runAtLeastOnce(txnId: string, raw: PushedEvent, event: MatrixEvent, receivedAt: number): Promise<void> {
    try {
      await this.handlers.onEvent(event, receivedAt);
    } catch (error) {
      if (failureKind(error) === "passing") {
        log.warn("transaction failed; the homeserver will retry it", {
          txnId, eventId: raw.event_id, type: raw.type, roomId: raw.room_id, reason: failureReason(error),
        });
        throw new RetryTransaction(failureReason(error));
      }
      this.logLasting(txnId, raw, error, "event could not be handled and is acknowledged: trying again would fail the same way");
    }
    await this.record(txnId, raw);
  }

  /** Remembers the event at once (so a retry in this process skips it even if
   *  the store write fails), then in the store. */
  private async record(txnId: string, event: PushedEvent): Promise<string[]> {
    this.remember(event.event_id);
    try {
      return await this.store.markEventsHandled([event.event_id]);
    } catch (error) {
      log.warn("transaction failed; the homeserver will retry it", { txnId, eventId: event.event_id, reason: failureReason(error) });
      throw new RetryTransaction(failureReason(error));
    }
  }

  private logLasting(txnId: string, event: PushedEvent, error: unknown, message: string): void {
    const fields = { txnId, eventId: event.event_id, type: event.type, roomId: event.room_id, reason: failureReason(error) };
    // An error with neither an HTTP status nor a code is the bridge's own bug: the stack helps fix it.
    const known = typeof (error as { status?: unknown })?.status === "number" || typeof (error as { code?: unknown })?.code === "string";
    if (known) log.warn(message, fields);
    else log.error(message, { ...fields, stack: (error as Error)?.stack });
  }

  private remember(eventId: string): void {
    this.handled.add(eventId);
    while (this.handled.size > REMEMBERED_EVENTS) this.handled.delete(this.handled.values().next().value!);
    if (++this.recordedSincePrune >= PRUNE_EVERY) {
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

function idOf(e: unknown): string | undefined {
  const id = (e as { event_id?: unknown } | null)?.event_id;
  return typeof id === "string" ? id.slice(0, 255) : undefined;
}

function typeOf(e: unknown): string | undefined {
  const type = (e as { type?: unknown } | null)?.type;
  return typeof type === "string" ? type.slice(0, 255) : undefined;
}
