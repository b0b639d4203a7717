import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import { Session, pushTarget } from "../model/session";
import { Store } from "../store/Store";
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

  async send(session: Session, body: SessionEventBody): Promise<void> {
    const event = { id: randomBytes(9).toString("base64url"), ...body } as SessionEvent;
    await this.store.appendPartyEvent(session.id, event as unknown as Record<string, unknown>);
    this.wakers.emit(session.id);
    const push = pushTarget(session);
    if (push) this.pusher.push(push.notifyUrl, session.id, push.token, [event], push.peerNode ?? undefined);
  }

  /** Pushes everything already queued for a session, for a party that has
   *  just been attached to it (glare: the surviving session). */
  async replay(session: Session): Promise<void> {
    const queued = await this.store.partyEventsSince(session.id, 0);
    this.wakers.emit(session.id);
    const push = pushTarget(session);
    if (queued.length && push) {
      this.pusher.push(push.notifyUrl, session.id, push.token, queued.map((q) => q.event as unknown as SessionEvent), push.peerNode ?? undefined);
    }
  }

  /** Wakes pullers without a new event (the session ended). */
  wake(sessionId: string): void {
    this.wakers.emit(sessionId);
  }

  subscribe(sessionId: string, wake: () => void): () => void {
    this.wakers.on(sessionId, wake);
    return () => this.wakers.off(sessionId, wake);
  }
}
