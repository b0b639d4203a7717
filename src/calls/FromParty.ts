import { timingSafeEqual } from "node:crypto";
import { DomainError } from "../errors/DomainError";
import { SessionId } from "../ids/session";
import * as ev from "../matrix/callEvents";
import { Leg } from "../model/leg";
import { Session, isLive, isRelay, pushTarget, tokenHashOf } from "../model/session";
import { LEG_MOVES, SESSION_MOVES } from "../model/transitions";
import { SessionEvent } from "../protocol/types";
import { Candidates } from "./Candidates";
import { CallContext, hashToken } from "./context";
import { Endings } from "./Endings";
import { OutboundPlacement } from "./OutboundPlacement";
import { Relay } from "./Relay";
import { RemoteMembers } from "./RemoteMembers";

/**
 * Session events from the WebCall party: its candidates, its answer (when it
 * is the one being called, or answers the Matrix user's offer after glare),
 * renegotiation and hangup. Each event id is applied once.
 */
export class FromParty {
  constructor(private readonly ctx: CallContext, private readonly endings: Endings, private readonly candidates: Candidates,
    private readonly placement: OutboundPlacement, private readonly relay: Relay, private readonly remote: RemoteMembers) {}

  /** The session the token opens, or the protocol's 404/401. */
  async authorise(sessionId: string, token: string): Promise<Session> {
    const session = await this.ctx.core.store.getSession(sessionId as SessionId);
    if (!session) throw new DomainError("WEBCALL_UNKNOWN_SESSION", "No such session");
    const tokenHash = tokenHashOf(session);
    if (!tokenHash || !sameHash(tokenHash, hashToken(token))) {
      throw new DomainError("WEBCALL_BAD_TOKEN", "The token does not open this session");
    }
    return session;
  }

  async deliver(sessionId: string, token: string, events: SessionEvent[]): Promise<void> {
    const found = await this.authorise(sessionId, token);
    // The called side answers and replaces; on inbound calls (and toward a
    // caller whose call we forward) that is us.
    const bad = (found.kind === "inbound" || found.kind === "relay_in") && events.find((e) => e.type === "replace" || e.type === "answer");
    if (bad) {
      throw new DomainError("WEBCALL_BAD_EVENT", bad.type === "replace"
        ? "replace is sent by the called side, not the caller"
        : "the caller cannot answer its own call");
    }
    await this.ctx.withSession(found.id, async (session, legs) => {
      if (!isLive(session)) throw new DomainError("WEBCALL_SESSION_OVER", "This session is over");
      for (const event of events) {
        if (!(await this.ctx.core.store.markPartyEventSeen(session.id, event.id))) continue;
        session = await this.apply(session, legs, event);
        if (!isLive(session)) return;
      }
    });
  }

  private async apply(session: Session, legs: Leg[], event: SessionEvent): Promise<Session> {
    const { core, live } = this.ctx;
    if (isRelay(session)) return this.relay.onEvent(session, event);
    if (session.kind === "member_out") return this.remote.onEvent(session, event);
    switch (event.type) {
      case "candidates":
        this.candidates.fromParty(session, legs, event.candidates);
        await this.remote.fromCaller(session, event);
        return session;
      case "answer": {
        // An outbound call's node may answer before its setup answer is handled.
        const leg = legs[0];
        if (session.kind !== "outbound" || !leg?.roomId || !SESSION_MOVES.answer.from.includes(session.state)) return session;
        await core.matrix.sendCallEvent(leg.virtualUserId, leg.roomId, ev.CALL_ANSWER,
          ev.answerContent(leg.callId, leg.bridgePartyId, event.answer), `answer.${leg.callId}`);
        const won = await core.store.answerLeg(leg.callId, session.id, { session: SESSION_MOVES.answer.from, leg: LEG_MOVES.answer.from },
          { session: { state: SESSION_MOVES.answer.to, answer: event.answer, answeredAt: core.now() }, leg: { state: LEG_MOVES.answer.to } });
        if (!won) return session;
        live.answered(won.session, [won.leg]);
        return won.session;
      }
      case "replace": {
        // Glare at the callee's node: its own call to our user survived; it
        // rings here instead, under the token this session already uses.
        const push = pushTarget(session);
        if (session.kind !== "outbound" || !push || (session.state !== "preparing" && session.state !== "ringing")) return session;
        await this.placement.adoptRemoteCall(session, legs, event.sessionId as SessionId, push.token, event.offer, push.notifyUrl);
        return { ...session, state: "replaced" };
      }
      case "negotiate": {
        await this.remote.fromCaller(session, event);
        const leg = legs.find((l) => l.state === "connected");
        if (session.state !== "connected" || !leg?.roomId || leg.matrixVersion !== "1") return session;
        await core.matrix.sendCallEvent(leg.virtualUserId, leg.roomId, ev.CALL_NEGOTIATE,
          ev.negotiateContent(leg.callId, leg.bridgePartyId, event.description, core.calls.defaultLifetimeMs));
        return session;
      }
      case "hangup": {
        const connected = session.state === "connected";
        if (session.kind === "inbound") {
          // A node that stops ringing because time ran out (a rota's step elsewhere) says so: the devices show a missed call.
          const hangup = !connected && event.reason === "invite_timeout" ? "invite_timeout" : "user_hangup";
          await this.endings.end(session, { reason: "party_hangup", matrix: { hangup }, notice: connected ? "ended" : "missed" });
        } else {
          // The called party declines a ringing call, or hangs up a connected one.
          await this.endings.end(session, { reason: "party_hangup", matrix: connected ? { hangup: "user_hangup" } : { reject: true },
            notice: connected ? "ended" : undefined });
        }
        return { ...session, state: "ended" };
      }
      default:
        return session;
    }
  }
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
