import { logger } from "../log";
import { Store } from "../store/Store";
import { failureKind, failureReason } from "./failures";

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

export interface EventHandlers {
  /** Whether the bridge acts on an event at all (its own echoes it does not). */
  isRelevant: (event: PushedEvent) => boolean;
  /** Events whose handling is not idempotent (bot commands): recorded as
   *  handled before they are handled, so a crash or a failure mid-way drops
   *  one rather than running it twice. Every other event is recorded as soon
   *  as it was handled, and its handler must tolerate a second delivery (the
   *  call core's conditional state transitions do). */
  atMostOnce: (event: PushedEvent) => boolean;
  onEvent: (event: PushedEvent, receivedAt: number) => Promise<void>;
}

/** The body is not a transaction (no `events` list): 400, never retried to success. */
export class BadTransaction extends Error {}

/** An event failed for a reason that may pass: the transaction is answered
 *  500 so that the homeserver sends it again. */
export class RetryTransaction extends Error {}

/**
 * Runs the events of pushed transactions, each on its own. A handler that
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
    const relevant = events.filter((event): event is PushedEvent => {
      if (isPushedEvent(event)) return this.handlers.isRelevant(event);
      log.warn("ignoring malformed event in transaction", { txnId, eventId: idOf(event) });
      return false;
    });
    // Most transactions only echo the bridge's own events: no store round trip for those.
    // A homeserver retries its oldest undelivered transaction, so a retried
    // event is always among the recent ids kept in memory.
    for (const event of relevant) {
      if (this.handled.has(event.event_id)) continue;
      if (this.handlers.atMostOnce(event)) await this.runOnce(txnId, event, receivedAt);
      else await this.runAtLeastOnce(txnId, event, receivedAt);
    }
  }

  /** Claimed first: whatever happens next, it is not run again. */
  private async runOnce(txnId: string, event: PushedEvent, receivedAt: number): Promise<void> {
    const claimed = (await this.record(txnId, event)).length > 0;
    if (!claimed) return;
    try {
      await this.handlers.onEvent(event, receivedAt);
    } catch (error) {
      // Failing the transaction would not run it again either: go on with the others.
      this.logLasting(txnId, event, error, "event dropped: it is run at most once");
    }
  }

  private async runAtLeastOnce(txnId: string, event: PushedEvent, receivedAt: number): Promise<void> {
    try {
      await this.handlers.onEvent(event, receivedAt);
    } catch (error) {
      if (failureKind(error) === "passing") {
        log.warn("transaction failed; the homeserver will retry it", {
          txnId, eventId: event.event_id, type: event.type, roomId: event.room_id, reason: failureReason(error),
        });
        throw new RetryTransaction(failureReason(error));
      }
      this.logLasting(txnId, event, error, "event could not be handled and is acknowledged: trying again would fail the same way");
    }
    await this.record(txnId, event);
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
