import { tryParseSessionId } from "../ids/session";
import * as ev from "../matrix/callEvents";
import { CallEvent, CallInvite, MatrixEvent, RoomMember, isCallEvent } from "../matrix/events/types";
import { Leg, LegId, pairKey } from "../model/leg";
import { Session } from "../model/session";
import { LEG_MOVES, SESSION_MOVES } from "../model/transitions";
import { DmRoom } from "../store/Store";
import { Candidates } from "./Candidates";
import { CallContext } from "./context";
import { Endings } from "./Endings";
import { OwnCalls } from "./OwnCalls";
import { Ringing } from "./Ringing";
import { RotaCalls } from "./RotaCalls";

/**
 * Events from the Matrix side: the user's devices answering, rejecting and
 * hanging up, their candidates, their own calls to a WebCall party
 * (OwnCalls), and membership of the DMs. It takes typed events, checked at
 * the Matrix edge (src/matrix/events/). Lenient in what it accepts:
 * version 0 events, js-sdk's "replaced" hangup reason, hangups with no reason.
 */
export class FromMatrix {
  constructor(private readonly ctx: CallContext, private readonly endings: Endings, private readonly ringing: Ringing,
    private readonly candidates: Candidates, private readonly own: OwnCalls, private readonly rotas: RotaCalls) {}

  /** Membership changes and call events from real users; never our own echoes. */
  isRelevant(event: MatrixEvent): boolean {
    if (this.ctx.core.virtualUsers.isVirtual(event.sender)) return false;
    return event.type === "m.room.member" || isCallEvent(event);
  }

  async onEvent(event: MatrixEvent, receivedAt: number): Promise<void> {
    const { core } = this.ctx;
    if (!this.isRelevant(event)) return;
    if (event.type === "m.room.member") return this.onMembership(event);
    if (!isCallEvent(event)) return;
    const dm = await core.matrix.dmByRoom(event.roomId);
    if (!dm || dm.matrixUserId !== event.sender) return;
    if (event.type === "m.call.invite") {
      await this.ctx.locks.run([pairKey(dm.matrixUserId, dm.virtualUserId)], () => this.own.onInvite(event, dm, receivedAt));
      return;
    }
    // Every call the bridge knows has a WebCall session id for its call_id:
    // a call_id that cannot be one names no call of ours.
    const callId = tryParseSessionId(event.callId);
    if (!callId) return;
    const leg = this.ctx.live.leg(callId) ?? await core.store.getLeg(callId as string as LegId);
    if (!leg) return;
    await this.ctx.withSession(leg.sessionId, async (session, legs) => {
      const current = legs.find((l) => l.callId === leg.callId);
      if (current?.roomId === event.roomId) await this.onCallEvent(session, current, event);
    });
  }

  private async onCallEvent(session: Session, leg: Leg, event: Exclude<CallEvent, CallInvite>): Promise<void> {
    const { partyId, version } = event;
    switch (event.type) {
      case "m.call.answer": return this.onAnswer(session, leg, partyId, version, event.answer);
      case "m.call.reject": return this.onDecline(session, leg, partyId, version);
      case "m.call.hangup": return this.onHangup(session, leg, partyId, version);
      case "m.call.candidates": {
        if (session.kind === "outbound" && leg.matrixPartyId !== null && partyId !== leg.matrixPartyId) return;
        this.candidates.fromDevice(session, leg, partyId, event.candidates);
        return;
      }
      case "m.call.select_answer": {
        if (session.kind === "outbound" && session.state !== "ended" && event.selectedPartyId !== leg.bridgePartyId) {
          await this.endings.end(session, { reason: "answered_elsewhere", party: "answered_elsewhere" });
        }
        return;
      }
      case "m.call.negotiate": {
        if (session.state !== "connected" || event.version !== "1" || leg.matrixVersion !== "1" || event.partyId !== leg.matrixPartyId) return;
        await this.ctx.core.party.send(session, { type: "negotiate", description: event.description });
        return;
      }
    }
  }

  /** The first answer from any device of any leg wins: the session connects,
   *  the leg's other devices see select_answer, the other legs stop ringing. */
  private async onAnswer(session: Session, leg: Leg, partyId: string | null, version: string, answer: { type: "answer"; sdp: string }): Promise<void> {
    const { core, live } = this.ctx;
    if (session.kind !== "inbound" || leg.state !== "ringing") return;
    const won = await core.store.answerLeg(leg.callId, session.id, { session: SESSION_MOVES.answer.from, leg: LEG_MOVES.answer.from }, {
      session: { state: SESSION_MOVES.answer.to, answer, answeredAt: core.now() },
      leg: { state: LEG_MOVES.answer.to, matrixPartyId: partyId, matrixVersion: version },
    });
    if (!won) return;
    live.answered(won.session, [won.leg, ...won.others]);
    live.watchers.get(session.id)?.answered(won.session, won.leg);
    live.watchers.delete(session.id);
    if (version === "1" && partyId) await this.selectAnswer(won.leg, partyId);
    await core.party.send(won.session, { type: "answer", answer });
    this.candidates.releaseDevice(won.session, won.leg);
    for (const other of won.others) await this.endings.endedElsewhere(other, other.was, won.session);
  }

  private async onDecline(session: Session, leg: Leg, partyId: string | null, version: string): Promise<void> {
    if (session.kind !== "inbound" || leg.state !== "ringing") return;
    if (version === "1" && partyId) await this.selectAnswer(leg, partyId);
    if (await this.endings.endLeg(leg, session, "decline", { reason: "declined", notice: "declined" })) await this.ringing.next(session, "declined");
  }

  private async onHangup(session: Session, leg: Leg, partyId: string | null, version: string): Promise<void> {
    if (session.kind === "inbound") {
      // A version 0 client declines with a hangup.
      if (leg.state === "ringing") return this.onDecline(session, leg, partyId, version);
      if (leg.state !== "connected" || (leg.matrixPartyId !== null && partyId !== leg.matrixPartyId)) return;
      await this.endings.end(session, { reason: "hangup", party: "user_hangup", notice: "ended" });
      return;
    }
    if (leg.matrixPartyId !== null && partyId !== leg.matrixPartyId) return;
    await this.endings.end(session, { reason: "hangup", party: "user_hangup", notice: session.state === "connected" ? "ended" : undefined });
  }

  private async selectAnswer(leg: Leg, selectedPartyId: string): Promise<void> {
    await this.ctx.core.matrix.sendCallEvent(leg.virtualUserId, leg.roomId!, ev.CALL_SELECT_ANSWER,
      ev.selectAnswerContent(leg.callId, leg.bridgePartyId, selectedPartyId), `select.${leg.callId}`);
  }

  private async onMembership(event: RoomMember): Promise<void> {
    const { core } = this.ctx;
    const { target, membership } = event;
    if (membership === "invite" && core.virtualUsers.isVirtual(target)) {
      const address = core.virtualUsers.addressOf(target);
      // An address of this homeserver that is not a rota names one of its own
      // users, who is called in Matrix itself, not through the bridge.
      const ownUser = address && !(await this.rotas.find(address)) ? core.localUsers.userIdFor(address) : undefined;
      await core.matrix.onDmInvite(event.roomId, event.sender, target, address, ownUser);
      return;
    }
    const dm = await core.matrix.dmByRoom(event.roomId);
    if (!dm) return;
    if (target === dm.matrixUserId) {
      const joined = membership === "join";
      if (!joined && membership !== "leave" && membership !== "ban") return;
      await core.matrix.setJoined(dm.roomId, joined);
      await this.onRoomChange(dm, joined);
    } else if (target === dm.virtualUserId && (membership === "leave" || membership === "ban")) {
      await this.onRoomChange(dm, false);
      await core.matrix.forgetDm(dm.roomId);
    }
  }

  /** Join: ring legs that waited for it. Leave: counts as a hangup of the leg's session. */
  private async onRoomChange(dm: DmRoom, joined: boolean): Promise<void> {
    const { core } = this.ctx;
    const legs = await core.store.liveLegsInRoom(dm.roomId);
    for (const seen of legs) {
      await this.ctx.withSession(seen.sessionId, async (session, all) => {
        const leg = all.find((l) => l.callId === seen.callId);
        if (!leg || leg.state === "ended") return;
        if (joined) {
          if (leg.state === "awaiting_join" && session.kind === "inbound") await this.ringing.invite(session, leg);
          return;
        }
        const connected = session.state === "connected";
        if (session.kind === "inbound" && !connected && all.filter((l) => l.state !== "ended").length > 1) {
          // One of several legs left: the others ring on.
          if (await this.endings.endLeg(leg, session, "step_timeout", { reason: "left_room", notice: "missed" })) await this.ringing.next(session, "left_room");
          return;
        }
        await this.endings.end(session, {
          reason: "left_room",
          party: connected ? "user_hangup" : "could_not_attend",
          notice: session.kind === "inbound" && !connected ? "missed" : undefined,
        });
      });
    }
  }
}
