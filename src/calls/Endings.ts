import { logger } from "../log";
import { SessionId } from "../ids/session";
import * as ev from "../matrix/callEvents";
import { Leg, LegState } from "../model/leg";
import { RelaySession, Session, SessionPatch, partyLabel, tokenHashOf } from "../model/session";
import { LEG_MOVES, SESSION_MOVES, SessionEvent } from "../model/transitions";
import { HangupReason } from "../protocol/types";
import { CallContext } from "./context";
import * as notices from "./notices";
import { Resender } from "./Resender";

const log = logger("calls");

export type NoticeKind = "missed" | "declined" | "ended" | "not_put_through" | "answered_elsewhere";

/** What a leg's Matrix side is told when it ends (only a leg whose invite is out gets an m.call event). */
export interface LegEnding {
  reason: string;
  matrix?: { hangup: ev.MatrixHangupReason } | { reject: true };
  notice?: NoticeKind;
}

/** How a session ends: what each side is told and what the DM notices say. */
export interface Ending extends LegEnding {
  /** The hangup reason the WebCall party is sent, if any. */
  party?: HangupReason;
  /** Set when the session lost glare to another. */
  replacedBy?: SessionId;
  /** The table's event; default hangup (glare_lost with replacedBy). */
  event?: Extract<SessionEvent, "hangup" | "expire" | "unanswered" | "glare_lost">;
}

const INVITE_OUT: readonly LegState[] = ["ringing", "connected"];

/** Ending sessions and legs, once each: every change is conditional on the table's from-states. */
export class Endings {
  /** Endings the homeserver could not take when the call ended. */
  private readonly resender = new Resender();

  constructor(private readonly ctx: CallContext) {}

  /** Ends a live session and every live leg of it. Undefined when it was over already. */
  async end(session: Session, ending: Ending): Promise<Session | undefined> {
    const { core, live } = this.ctx;
    const move = SESSION_MOVES[ending.event ?? (ending.replacedBy ? "glare_lost" : "hangup")];
    const patch: SessionPatch = { state: move.to, endReason: ending.reason, endedAt: core.now(), replacedBy: ending.replacedBy ?? null };
    const done = await core.store.endSession(session.id, move.from, patch, ending.reason);
    if (!done) return undefined;
    const watcher = live.watchers.get(session.id);
    live.forget(session.id, done.legs);
    if (watcher && session.state !== "connected") watcher.endedUnanswered(done.session, ending.event ?? (ending.replacedBy ? "glare_lost" : "hangup"));
    for (const leg of done.legs) await this.tellLeg(leg, leg.was, done.session, ending);
    if (ending.party && tokenHashOf(session)) await core.party.send(done.session, { type: "hangup", reason: ending.party });
    else core.party.wake(session.id);
    log.info("call ended", { callId: session.id, kind: session.kind, reason: ending.reason });
    return done.session;
  }

  /** Ends one leg (declined, timed out, answered elsewhere) and tells its side. Whether it ended. */
  async endLeg(leg: Leg, session: Session, event: "decline" | "step_timeout" | "answered_elsewhere", ending: LegEnding): Promise<boolean> {
    const { core, live } = this.ctx;
    live.clearStep(leg.callId);
    const ended = await core.store.transitionLeg(leg.callId, LEG_MOVES[event].from, { state: LEG_MOVES[event].to, endReason: ending.reason });
    if (!ended) return false;
    live.rememberLeg(ended);
    await this.tellLeg(leg, leg.state, session, ending);
    return true;
  }

  /** Tells a leg that ended in another's favour (the answer won elsewhere); the store already ended it. */
  async endedElsewhere(leg: Leg, was: LegState, session: Session): Promise<void> {
    this.ctx.live.clearStep(leg.callId);
    await this.tellLeg(leg, was, session, { reason: "answered_elsewhere", matrix: { hangup: "user_hangup" }, notice: "answered_elsewhere" });
  }

  /** The Matrix side of a leg's end: its m.call event if its invite is out, its DM's notice. */
  private async tellLeg(leg: Leg, was: LegState, session: Session, ending: LegEnding): Promise<void> {
    const { matrix } = this.ctx.core;
    const roomId = leg.roomId;
    if (!roomId || was === "queued") return;
    if (ending.matrix && INVITE_OUT.includes(was)) {
      const reject = "reject" in ending.matrix && leg.matrixVersion === "1";
      const content = reject ? ev.rejectContent(leg.callId, leg.bridgePartyId)
        : ev.hangupContent(leg.callId, leg.bridgePartyId, "hangup" in ending.matrix ? ending.matrix.hangup : "user_hangup");
      const send = () => matrix.sendCallEvent(leg.virtualUserId, roomId, reject ? ev.CALL_REJECT : ev.CALL_HANGUP, content, `end.${leg.callId}`);
      await send().catch((err: Error) => {
        log.warn("could not send the Matrix side's ending; will retry", { callId: leg.callId, error: err.message });
        this.resender.retry(`end.${leg.callId}`, send);
      });
    }
    if (ending.notice) {
      await matrix.notice(leg.virtualUserId, roomId, this.noticeText(ending.notice, session))
        .catch((err: Error) => log.warn("could not send notice", { callId: leg.callId, error: err.message }));
    }
  }

  private noticeText(kind: NoticeKind, session: Session): string {
    const who = partyLabel(session);
    switch (kind) {
      case "missed": return notices.missedNotice(who);
      case "declined": return notices.declinedNotice(who);
      case "not_put_through": return notices.notPutThroughNotice(who);
      case "answered_elsewhere": return notices.answeredElsewhereNotice(who);
      case "ended": return notices.endedNotice(who, (session.endedAt ?? 0) - (session.answeredAt ?? session.endedAt ?? 0));
    }
  }

  /** The lifetime passed with no answer. */
  async expire(session: Session): Promise<void> {
    if (!SESSION_MOVES.expire.from.includes(session.state)) return;
    switch (session.kind) {
      case "relay_in":
      case "relay_out":
        return this.endRelay(session, "invite_timeout", { caller: "could_not_attend", next: "invite_timeout" }, "expire");
      case "inbound":
        await this.end(session, { reason: "invite_timeout", matrix: { hangup: "invite_timeout" }, party: "could_not_attend", notice: "missed", event: "expire" });
        return;
      case "outbound":
        // The Matrix user's own client ends its unanswered call at the lifetime.
        await this.end(session, { reason: "invite_timeout", party: "invite_timeout", event: "expire" });
        return;
      case "member_out":
        // A rota member's attempt lives as long as the rota call it rings for.
        await this.end(session, { reason: "invite_timeout", party: "invite_timeout", event: "expire" });
    }
  }

  /** Ends both halves of a relayed call, telling the caller and the next
   *  node what is given; the side whose hangup ended it is told nothing. */
  async endRelay(half: RelaySession, reason: string, tell: { caller?: HangupReason; next?: HangupReason }, event: Ending["event"] = "hangup"): Promise<void> {
    const peer = await this.ctx.core.store.getSession(half.peer);
    const [callerHalf, nextHalf] = half.kind === "relay_in" ? [half, peer] : [peer, half];
    if (callerHalf) await this.end(callerHalf, { reason, party: tell.caller, event });
    if (nextHalf) await this.end(nextHalf, { reason, party: tell.next, event });
  }

  close(): void {
    this.resender.close();
  }
}
