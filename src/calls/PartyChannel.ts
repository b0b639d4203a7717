import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import { SessionId } from "../ids/session";
import { CallRecord, Store } from "../store/Store";
import { SessionEvent, SessionEventBody } from "../protocol/types";

/** Pushes session events to the party's own node (its `notify` endpoint). */
export interface EventPusher {
  /** `destination`: the receiving node's domain, when known. */
  push(notifyUrl: string, sessionId: string, token: string, events: SessionEvent[], destination?: string): void;
}

/**
 * Session events on their way to the WebCall party. Every event is queued in
 * the store first (so a pull after a restart still finds it), then woken
 * pullers are told, then it is pushed to the party's node if it gave one.
 */
export class PartyChannel {
  private readonly wakers = new EventEmitter();

  constructor(private readonly store: Store, private readonly pusher: EventPusher) {
    this.wakers.setMaxListeners(0);
  }

  async send(call: CallRecord, body: SessionEventBody): Promise<void> {
    const event = { id: randomBytes(9).toString("base64url"), ...body } as SessionEvent;
    await this.store.appendPartyEvent(call.callId, event as unknown as Record<string, unknown>);
    this.wakers.emit(call.callId);
    if (call.notifyUrl && call.notifyToken) this.pusher.push(call.notifyUrl, call.callId, call.notifyToken, [event], call.peerNode ?? undefined);
  }

  /** Pushes everything already queued for a session, for a party that has
   *  just been attached to it (glare: the surviving session). */
  async replay(call: CallRecord): Promise<void> {
    const queued = await this.store.partyEventsSince(call.callId, 0);
    this.wakers.emit(call.callId);
    if (queued.length && call.notifyUrl && call.notifyToken) {
      this.pusher.push(call.notifyUrl, call.callId, call.notifyToken, queued.map((q) => q.event as unknown as SessionEvent),
        call.peerNode ?? undefined);
    }
  }

  /** Wakes pullers without a new event (the session ended). */
  wake(callId: SessionId): void {
    this.wakers.emit(callId);
  }

  subscribe(callId: string, wake: () => void): () => void {
    this.wakers.on(callId, wake);
    return () => this.wakers.off(callId, wake);
  }
}
