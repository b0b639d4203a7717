import { logger } from "../log";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { SessionId, newPartyId, newSessionToken } from "../ids/session";
import { domainOf } from "../ids/address";
import { PushedEvent } from "../matrix/AppserviceListener";
import * as ev from "../matrix/callEvents";
import { SessionDescription } from "../protocol/types";
import { CallRecord, DmRoom } from "../store/Store";
import { IceCandidate } from "../protocol/types";
import { CallActions, hashToken } from "./CallActions";
import { CallDeps, pairKey } from "./CallDeps";
import { lesserWins } from "./glare";
import { OutboundPlacement } from "./OutboundPlacement";

const log = logger("from-matrix");

/**
 * Events from the Matrix side: the user's devices answering, rejecting and
 * hanging up, their candidates, their own calls to a WebCall party (glare),
 * and membership of the DMs. Lenient in what it accepts: version 0 events,
 * js-sdk's "replaced" hangup reason, hangups with no reason.
 */
export class FromMatrix {
  constructor(private readonly deps: CallDeps, private readonly actions: CallActions, private readonly placement: OutboundPlacement) {}

  /** Membership changes and call events from real users; never our own echoes. */
  isRelevant(event: PushedEvent): boolean {
    if (this.deps.virtualUsers.isVirtual(event.sender)) return false;
    return event.type === "m.room.member" || (event.type.startsWith("m.call.") && typeof event.content.call_id === "string");
  }

  async onEvent(event: PushedEvent, receivedAt: number): Promise<void> {
    const { deps } = this;
    if (!this.isRelevant(event)) return;
    if (event.type === "m.room.member") return this.onMembership(event);
    const dm = await deps.rooms.findByRoomId(event.room_id as RoomId);
    if (!dm || dm.matrixUserId !== event.sender) return;
    if (event.type === ev.CALL_INVITE) {
      await this.actions.mutex.run(pairKey(dm.matrixUserId, dm.virtualUserId), () => this.onInvite(event, dm, receivedAt));
      return;
    }
    const ids = { callId: event.content.call_id as SessionId, matrixUserId: dm.matrixUserId, virtualUserId: dm.virtualUserId };
    await this.actions.withCall(ids, (call) => call.roomId === event.room_id ? this.onCallEvent(call, event) : Promise.resolve());
  }

  private async onCallEvent(call: CallRecord, event: PushedEvent): Promise<void> {
    const { content } = event;
    const partyId = typeof content.party_id === "string" ? content.party_id : null;
    const version = String(content.version ?? "0");
    switch (event.type) {
      case ev.CALL_ANSWER: return this.onAnswer(call, partyId, version, description(content.answer, "answer"));
      case ev.CALL_REJECT: return this.onDecline(call, partyId, version);
      case ev.CALL_HANGUP: return this.onHangup(call, partyId, version);
      case ev.CALL_CANDIDATES: {
        if (call.direction === "outbound" && call.matrixPartyId !== null && partyId !== call.matrixPartyId) return;
        this.actions.deviceCandidatesIn(call, partyId, candidates(content.candidates));
        return;
      }
      case ev.CALL_SELECT_ANSWER: {
        if (call.direction === "outbound" && call.state !== "ended" && content.selected_party_id !== call.bridgePartyId) {
          await this.actions.end(call, { reason: "answered_elsewhere", party: "answered_elsewhere" });
        }
        return;
      }
      case ev.CALL_NEGOTIATE: {
        const desc = content.description as SessionDescription | undefined;
        if (call.state !== "connected" || version !== "1" || call.matrixVersion !== "1" || partyId !== call.matrixPartyId) return;
        if (desc && (desc.type === "offer" || desc.type === "answer") && typeof desc.sdp === "string") {
          await this.deps.party.send(call, { type: "negotiate", description: { type: desc.type, sdp: desc.sdp } });
        }
        return;
      }
    }
  }

  /** The first answer from any device wins; the others see select_answer and stop ringing. */
  private async onAnswer(call: CallRecord, partyId: string | null, version: string, answer: SessionDescription | undefined): Promise<void> {
    if (call.direction !== "inbound" || call.state !== "ringing" || !answer) return;
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
  private async onInvite(event: PushedEvent, dm: DmRoom, receivedAt: number): Promise<void> {
    const { deps } = this;
    const { content } = event;
    const callId = content.call_id as SessionId;
    const offer = description(content.offer, "offer");
    const lifetime = Number(content.lifetime);
    if (!offer || !(lifetime > 0)) return;
    if (content.invitee !== undefined && content.invitee !== dm.virtualUserId) return;
    const age = (event.unsigned?.age ?? 0) + (deps.now() - receivedAt);
    if (age >= lifetime) return; // an expired invite never rings
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
      matrixPartyId: typeof content.party_id === "string" ? content.party_id : null,
      matrixVersion: String(content.version ?? "0"), offer, answer: null,
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

  private async onMembership(event: PushedEvent): Promise<void> {
    const { deps } = this;
    const target = event.state_key;
    const membership = event.content.membership;
    if (typeof target !== "string") return;
    if (membership === "invite" && deps.virtualUsers.isVirtual(target)) {
      const virtualUserId = target as MatrixUserId;
      await deps.dmInvites.onInvite(event.room_id as RoomId, event.sender as MatrixUserId, virtualUserId, deps.virtualUsers.addressOf(virtualUserId));
      return;
    }
    const dm = await deps.rooms.findByRoomId(event.room_id as RoomId);
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

function description(value: unknown, type: "offer" | "answer"): SessionDescription | undefined {
  const d = value as SessionDescription | undefined;
  return d && typeof d === "object" && d.type === type && typeof d.sdp === "string" ? { type, sdp: d.sdp } : undefined;
}

function candidates(value: unknown): IceCandidate[] {
  if (!Array.isArray(value)) return [];
  return value.filter((c): c is IceCandidate => typeof c === "object" && c !== null && typeof (c as IceCandidate).candidate === "string")
    .map((c) => ({ candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null }));
}

