import { logger } from "../log";
import { newPartyId, newSessionToken, tryParseSessionId } from "../ids/session";
import { domainOf } from "../ids/address";
import * as ev from "../matrix/callEvents";
import { CallEvent, CallInvite, CallNegotiate, MatrixEvent, RoomMember, SdpAnswer, isCallEvent } from "../matrix/events/types";
import { CallRecord, DmRoom } from "../store/Store";
import { CallActions, hashToken } from "./CallActions";
import { CallDeps, pairKey } from "./CallDeps";
import { lesserWins } from "./glare";
import { OutboundPlacement } from "./OutboundPlacement";

const log = logger("from-matrix");

/**
 * Events from the Matrix side: the user's devices answering, rejecting and
 * hanging up, their candidates, their own calls to a WebCall party (glare),
 * and membership of the DMs. It takes typed events, checked at the Matrix
 * edge (src/matrix/events/): every id, SDP and candidate list is already
 * bounded. Lenient in what it accepts: version 0 events, js-sdk's
 * "replaced" hangup reason, hangups with no reason.
 */
export class FromMatrix {
  constructor(private readonly deps: CallDeps, private readonly actions: CallActions, private readonly placement: OutboundPlacement) {}

  /** Membership changes and call events from real users; never our own echoes. */
  isRelevant(event: MatrixEvent): boolean {
    if (this.deps.virtualUsers.isVirtual(event.sender)) return false;
    return event.type === "m.room.member" || isCallEvent(event);
  }

  async onEvent(event: MatrixEvent, receivedAt: number): Promise<void> {
    const { deps } = this;
    if (!this.isRelevant(event)) return;
    if (event.type === "m.room.member") return this.onMembership(event);
    if (!isCallEvent(event)) return;
    const dm = await deps.rooms.findByRoomId(event.roomId);
    if (!dm || dm.matrixUserId !== event.sender) return;
    if (event.type === "m.call.invite") {
      await this.actions.mutex.run(pairKey(dm.matrixUserId, dm.virtualUserId), () => this.onInvite(event, dm, receivedAt));
      return;
    }
    // Every call the bridge knows has a WebCall session id for its call_id:
    // a call_id that cannot be one names no call of ours.
    const callId = tryParseSessionId(event.callId);
    if (!callId) return;
    const ids = { callId, matrixUserId: dm.matrixUserId, virtualUserId: dm.virtualUserId };
    await this.actions.withCall(ids, (call) => call.roomId === event.roomId ? this.onCallEvent(call, event) : Promise.resolve());
  }

  private async onCallEvent(call: CallRecord, event: Exclude<CallEvent, CallInvite>): Promise<void> {
    const { partyId, version } = event;
    switch (event.type) {
      case "m.call.answer": return this.onAnswer(call, partyId, version, event.answer);
      case "m.call.reject": return this.onDecline(call, partyId, version);
      case "m.call.hangup": return this.onHangup(call, partyId, version);
      case "m.call.candidates": {
        if (call.direction === "outbound" && call.matrixPartyId !== null && partyId !== call.matrixPartyId) return;
        this.actions.deviceCandidatesIn(call, partyId, event.candidates);
        return;
      }
      case "m.call.select_answer": {
        if (call.direction === "outbound" && call.state !== "ended" && event.selectedPartyId !== call.bridgePartyId) {
          await this.actions.end(call, { reason: "answered_elsewhere", party: "answered_elsewhere" });
        }
        return;
      }
      case "m.call.negotiate": return this.onNegotiate(call, event);
    }
  }

  private async onNegotiate(call: CallRecord, event: CallNegotiate): Promise<void> {
    if (call.state !== "connected" || event.version !== "1" || call.matrixVersion !== "1" || event.partyId !== call.matrixPartyId) return;
    await this.deps.party.send(call, { type: "negotiate", description: event.description });
  }

  /** The first answer from any device wins; the others see select_answer and stop ringing. */
  private async onAnswer(call: CallRecord, partyId: string | null, version: string, answer: SdpAnswer): Promise<void> {
    if (call.direction !== "inbound" || call.state !== "ringing") return;
    const connected = await this.deps.store.transitionCall(call.callId, ["ringing"], {
      state: "connected", matrixPartyId: partyId, matrixVersion: version, answer, answeredAt: this.deps.now(),
    });
    if (!connected) return;
    this.actions.answered(connected);
    if (version === "1" && partyId) await this.selectAnswer(connected, partyId);
    await this.deps.party.send(connected, { type: "answer", answer });
    this.actions.releaseDeviceCandidates(connected);
  }

  private async onDecline(call: CallRecord, partyId: string | null, version: string): Promise<void> {
    if (call.direction !== "inbound" || call.state !== "ringing") return;
    if (version === "1" && partyId) await this.selectAnswer(call, partyId);
    await this.actions.end(call, { reason: "declined", party: "could_not_attend", notice: "declined" });
  }

  private async onHangup(call: CallRecord, partyId: string | null, version: string): Promise<void> {
    if (call.direction === "inbound") {
      // A version 0 client declines with a hangup.
      if (call.state === "ringing") return this.onDecline(call, partyId, version);
      if (call.state !== "connected" || (call.matrixPartyId !== null && partyId !== call.matrixPartyId)) return;
      return this.actions.end(call, { reason: "hangup", party: "user_hangup", notice: "ended" });
    }
    if (call.matrixPartyId !== null && partyId !== call.matrixPartyId) return;
    await this.actions.end(call, { reason: "hangup", party: "user_hangup", notice: call.state === "connected" ? "ended" : undefined });
  }

  private async selectAnswer(call: CallRecord, selectedPartyId: string): Promise<void> {
    await this.deps.homeserver.sendEvent(call.virtualUserId, call.roomId!, ev.CALL_SELECT_ANSWER,
      ev.selectAnswerContent(call.callId, call.bridgePartyId, selectedPartyId), `select.${call.callId}`);
  }

  /** The Matrix user calls the WebCall party of this DM. */
  private async onInvite(event: CallInvite, dm: DmRoom, receivedAt: number): Promise<void> {
    const { deps } = this;
    if (event.invitee !== null && event.invitee !== dm.virtualUserId) return;
    // A call is as long as the bridge lets any call ring, whatever the client asks.
    const lifetime = Math.min(event.lifetimeMs, deps.calls.maxLifetimeMs);
    const age = event.ageMs + (deps.now() - receivedAt);
    if (age >= lifetime) return; // an expired invite never rings
    const callId = tryParseSessionId(event.callId);
    if (!callId) {
      // Its call_id becomes the WebCall session id, whose grammar is narrower
      // than Matrix's: the call cannot be placed, and the caller's device is told at once.
      log.warn("refusing a call whose call_id cannot be a WebCall session id", { eventId: event.eventId, roomId: dm.roomId });
      await deps.homeserver.sendEvent(dm.virtualUserId, dm.roomId, ev.CALL_REJECT, ev.rejectContent(event.callId, newPartyId()), `reject.${event.eventId}`);
      return;
    }
    const offer = event.offer;
    const calleeAddress = deps.virtualUsers.addressOf(dm.virtualUserId);
    const callerAddress = deps.localUsers.addressOf(dm.matrixUserId);
    if (!calleeAddress || !callerAddress) return; // the anonymous caller cannot be called back
    const now = deps.now();
    // With the callee's node already known, the call is on its way from the
    // start: it is stored attached to the node, and placing it costs no
    // further store round trip.
    const endpoint = deps.discovery.known(domainOf(calleeAddress));
    const token = endpoint ? newSessionToken() : null;
    const call: CallRecord = {
      callId, direction: "outbound", state: "preparing", tokenHash: token ? hashToken(token) : "",
      callerAddress, calleeAddress, matrixUserId: dm.matrixUserId, virtualUserId: dm.virtualUserId,
      roomId: dm.roomId, bridgePartyId: newPartyId(),
      matrixPartyId: event.partyId, matrixVersion: event.version, offer, answer: null,
      lifetimeMs: lifetime, createdAt: now, expiresAt: now + lifetime - age, answeredAt: null, endedAt: null,
      notifyUrl: endpoint ?? null, notifyToken: token, via: [], setupFingerprint: null, setupResponse: null,
      replacedBy: null, endReason: null, relayPeer: null, peerNode: null, callerIdentity: null,
    };
    const inserted = await deps.store.insertCall(call);
    if (!inserted.inserted) return; // a retried transaction
    this.actions.schedule(call);
    this.actions.trackOwnCall(call);
    if (await this.glareWithInbound(call)) return;
    // Placed outside this mutex turn: the callee's node may be calling us right now.
    void this.placement.place(call);
  }

  /**
   * The user's invite meets a WebCall call to them in the same DM. If ours
   * was still being prepared, theirs wins; if ours was sent, the lesser id
   * wins. The loser is ended by the bridge itself (clients may not do their
   * half), and a losing WebCall party is told to continue in the survivor.
   */
  private async glareWithInbound(mine: CallRecord): Promise<boolean> {
    const { deps, actions } = this;
    if (!actions.mayHaveUnansweredInbound(mine)) return false;
    const theirs = (await deps.store.liveCallsInRoom(mine.roomId!))
      .filter((c) => c.direction === "inbound" && c.state !== "connected");
    for (const inbound of theirs) {
      const wasSent = inbound.state === "ringing";
      const userWins = !wasSent || lesserWins(inbound.callId, mine.callId) === mine.callId;
      if (!userWins) {
        await actions.end(mine, { reason: "glare", matrix: { reject: true }, replacedBy: inbound.callId });
        return true;
      }
      // The WebCall party answers the user's call instead of placing it anew.
      const attached = await deps.store.transitionCall(mine.callId, ["preparing"], {
        state: "ringing", tokenHash: inbound.tokenHash, notifyUrl: inbound.notifyUrl, notifyToken: inbound.notifyToken,
      });
      if (!attached) return true;
      actions.trackOwnCall(attached);
      await deps.party.send(inbound, { type: "replace", sessionId: mine.callId, offer: mine.offer });
      await actions.end(inbound, { reason: "glare", matrix: wasSent ? { hangup: "user_hangup" } : undefined, replacedBy: mine.callId });
      await deps.party.replay(attached);
      log.info("glare: the Matrix user's call survives", { lost: inbound.callId, kept: mine.callId });
      return true;
    }
    return false;
  }

  private async onMembership(event: RoomMember): Promise<void> {
    const { deps } = this;
    const { target, membership } = event;
    if (membership === "invite" && deps.virtualUsers.isVirtual(target)) {
      await deps.dmInvites.onInvite(event.roomId, event.sender, target, deps.virtualUsers.addressOf(target));
      return;
    }
    const dm = await deps.rooms.findByRoomId(event.roomId);
    if (!dm) return;
    if (target === dm.matrixUserId) {
      const joined = membership === "join";
      if (!joined && membership !== "leave" && membership !== "ban") return;
      await deps.rooms.setJoined(dm.roomId, joined);
      await this.onRoomChange(dm, joined);
    } else if (target === dm.virtualUserId && (membership === "leave" || membership === "ban")) {
      await this.onRoomChange(dm, false);
      await deps.rooms.forget(dm.roomId);
    }
  }

  /** Join: ring calls that waited for it. Leave: counts as a hangup. */
  private async onRoomChange(dm: DmRoom, joined: boolean): Promise<void> {
    const { actions } = this;
    await actions.mutex.run(pairKey(dm.matrixUserId, dm.virtualUserId), async () => {
      for (const call of await this.deps.store.liveCallsInRoom(dm.roomId)) {
        if (joined) {
          if (call.state === "awaiting_join") await actions.invite(call);
        } else {
          await actions.end(call, {
            reason: "left_room",
            party: call.state === "connected" ? "user_hangup" : "could_not_attend",
            notice: call.direction === "inbound" && call.state !== "connected" ? "missed" : undefined,
          });
        }
      }
    });
  }
}
