import { createHash } from "node:crypto";
import { logger } from "../log";
import { Address } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { SessionId } from "../ids/session";
import * as ev from "../matrix/callEvents";
import { CallRecord, CallState, LIVE_STATES } from "../store/Store";
import { HangupReason, IceCandidate } from "../protocol/types";
import { CallDeps, pairKey } from "./CallDeps";
import { CandidateBatcher } from "./CandidateBatcher";
import { Resender } from "./Resender";
import { KeyedMutex } from "../util/KeyedMutex";
import { LruCache } from "../util/LruCache";
import { splitByBytes } from "../util/eventSize";
import * as notices from "./notices";
import { CallerIdentity, UNVERIFIED } from "../model/callerIdentity";

const log = logger("calls");

/** How a call ends: what each side is told and what the DM notice says. */
export interface Ending {
  reason: string;
  /** The event the virtual user sends to the Matrix user, if any. */
  matrix?: { hangup: ev.MatrixHangupReason } | { reject: true };
  /** The hangup reason the WebCall party is sent, if any. */
  party?: HangupReason;
  notice?: "missed" | "declined" | "ended" | "not_put_through";
  /** Set when the call lost glare to another. */
  replacedBy?: SessionId;
}

const NOT_ANSWERED: readonly CallState[] = ["preparing", "awaiting_join", "ringing"];
/** A WebCall session event holds 1-100 candidates (session-event.json), though
 *  one Matrix event may bring hundreds: more would fail every pull's schema check. */
const MAX_PARTY_EVENT_CANDIDATES = 100;

/**
 * The operations every path of a call shares: ringing the Matrix user,
 * moving candidates, lifetime timers and ending a call. Every operation on a
 * call runs under the mutex of its (Matrix user, virtual user) pair.
 */
export class CallActions {
  readonly mutex = new KeyedMutex();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Candidates from the WebCall party that arrived before the invite went out. */
  private readonly earlyPartyCandidates = new Map<string, IceCandidate[]>();
  /** Candidates from each ringing device, until one answer is selected. */
  private readonly deviceCandidates = new Map<string, Map<string, IceCandidate[]>>();
  private readonly toMatrix: CandidateBatcher;
  private readonly toParty: CandidateBatcher;
  private readonly callsById = new Map<string, CallRecord>();
  /** The Matrix user's own live calls to a WebCall party, by pair, so glare
   *  is checked on the warm path without a store round trip. */
  private readonly ownCallsByPair = new Map<string, CallRecord>();
  /** Calls a previous process may have sent the invite for before it died
   *  (left preparing or awaiting_join): the room is checked before a resend. */
  private readonly maybeInvited = new Set<string>();
  /** The last "who is calling" line each DM was told (see noticeWhoIsCalling). */
  private readonly lastCallerLine = new LruCache<string, string>(10_000);
  /** Endings the homeserver could not take when the call ended. */
  private readonly resender = new Resender();

  constructor(private readonly deps: CallDeps) {
    this.toMatrix = new CandidateBatcher(deps.calls.candidateBatchMs, (id, c) => this.flushToMatrix(id, c), (id, c) => {
      const call = this.callsById.get(id);
      return call ? ev.candidateRuns(call.callId, call.bridgePartyId, c) : [];
    });
    this.toParty = new CandidateBatcher(deps.calls.candidateBatchMs, (id, c) => this.flushToParty(id, c),
      (_id, c) => splitByBytes(c, Infinity, () => 0, MAX_PARTY_EVENT_CANDIDATES));
  }

  /** Runs `task` under the call's pair mutex with the call's current record. */
  withCall<T>(call: Pick<CallRecord, "callId" | "matrixUserId" | "virtualUserId">, task: (current: CallRecord) => Promise<T>): Promise<T | undefined> {
    return this.mutex.run(pairKey(call.matrixUserId, call.virtualUserId), async () => {
      const current = await this.deps.store.getCall(call.callId);
      return current ? task(current) : undefined;
    });
  }

  /** The Matrix user's view of the WebCall party. */
  partyLabel(call: CallRecord): string {
    return (call.direction === "inbound" ? call.callerAddress : call.calleeAddress) ?? "An anonymous caller";
  }

  // ---- ringing the Matrix user (inbound calls) ----

  /** preparing → ringing, or → awaiting_join on first contact. */
  async ring(call: CallRecord): Promise<void> {
    const { deps } = this;
    if (this.expired(call)) return this.expire(call);
    const identity = call.callerIdentity ?? UNVERIFIED;
    await deps.registry.ensure(call.virtualUserId, displayNameFor(call.callerAddress));
    let ensured = await deps.rooms.ensure(call.matrixUserId, call.virtualUserId);
    if ("room" in ensured && !ensured.created && !ensured.room.matrixUserJoined) ensured = await deps.rooms.reinvite(ensured.room);
    // A DM the homeserver encrypted cannot carry the call (DmRooms.ensure told the callee why).
    if (!("room" in ensured)) return this.end(call, { reason: "encrypted_dm", party: "could_not_attend" });
    const { room } = ensured;
    if (call.roomId !== room.roomId || (!room.matrixUserJoined && call.state === "preparing")) {
      const next = await deps.store.transitionCall(call.callId, ["preparing", "awaiting_join"], {
        roomId: room.roomId, state: room.matrixUserJoined ? call.state : "awaiting_join",
      });
      if (!next) return;
      call = next;
    }
    if (!room.matrixUserJoined) {
      const secondsLeft = Math.max(1, Math.round((call.expiresAt - deps.now()) / 1000));
      const line = notices.callerLine(call.callerAddress, identity);
      await this.notice(call, notices.firstContactNotice(line, secondsLeft));
      this.lastCallerLine.set(room.roomId, line);
      return;
    }
    // The invite first: the notice saying who is calling must not delay the ring.
    if (!(await this.invite(call))) return;
    await this.noticeWhoIsCalling(call, notices.callerLine(call.callerAddress, identity));
  }

  /** Says who is calling and how the call came, unless the DM's last such
   *  notice said exactly that: a caller who rings every day with the same
   *  proof gets one notice, not one per call (the display name still shows
   *  ✓ or "(unverified)" on each). */
  private async noticeWhoIsCalling(call: CallRecord, line: string): Promise<void> {
    if (!call.roomId || this.lastCallerLine.get(call.roomId) === line) return;
    try {
      await this.notice(call, notices.incomingNotice(line));
      this.lastCallerLine.set(call.roomId, line);
    } catch (err) {
      log.warn("could not send the call's notice", { callId: call.callId, error: (err as Error).message });
    }
  }

  /** After a restart: this call's invite may be out already (see invite). */
  mayHaveInvited(call: CallRecord): void {
    this.maybeInvited.add(call.callId);
  }

  /** Sends the m.call.invite, unless a process before a restart already did:
   *  the stable txn id covers a resend only while the same Synapse process
   *  remembers it, so a call resumed from the store is looked up in the room
   *  first. Whether the call now rings. */
  async invite(call: CallRecord): Promise<boolean> {
    const remaining = call.expiresAt - this.deps.now();
    if (remaining <= 0 || !call.roomId) {
      await this.expire(call);
      return false;
    }
    const resumed = this.maybeInvited.delete(call.callId);
    const sent = resumed && await this.deps.homeserver.sentCallEvent(call.virtualUserId, call.roomId, ev.CALL_INVITE, call.callId);
    if (!sent) {
      // The DM shows this call's proof before it rings (VirtualUserRegistry).
      await this.deps.registry.nameIn(call.virtualUserId, call.roomId, displayNameFor(call.callerAddress, call.callerIdentity ?? UNVERIFIED));
      await this.deps.homeserver.sendEvent(call.virtualUserId, call.roomId, ev.CALL_INVITE,
        ev.inviteContent(call.callId, call.bridgePartyId, call.offer, remaining, call.matrixUserId), `invite.${call.callId}`);
    }
    const ringing = await this.deps.store.transitionCall(call.callId, ["preparing", "awaiting_join"], { state: "ringing" });
    if (!ringing) return false;
    this.remember(ringing);
    const early = this.earlyPartyCandidates.get(call.callId);
    this.earlyPartyCandidates.delete(call.callId);
    if (early?.length) this.toMatrix.add(call.callId, early);
    return true;
  }

  // ---- candidates ----

  /** Candidates from the WebCall party toward the Matrix user. */
  partyCandidates(call: CallRecord, candidates: IceCandidate[]): void {
    if (call.direction === "inbound" && (call.state === "preparing" || call.state === "awaiting_join")) {
      const early = this.earlyPartyCandidates.get(call.callId) ?? [];
      early.push(...candidates);
      this.earlyPartyCandidates.set(call.callId, early);
      return;
    }
    this.remember(call);
    this.toMatrix.add(call.callId, candidates);
  }

  /** Candidates from one of the Matrix user's devices toward the WebCall party. */
  deviceCandidatesIn(call: CallRecord, partyId: string | null, candidates: IceCandidate[]): void {
    const selected = call.direction === "outbound" || call.state === "connected";
    if (selected) {
      if (call.direction === "inbound" && call.matrixPartyId !== null && partyId !== call.matrixPartyId) return;
      this.remember(call);
      this.toParty.add(call.callId, candidates);
      return;
    }
    const byDevice = this.deviceCandidates.get(call.callId) ?? new Map<string, IceCandidate[]>();
    const list = byDevice.get(partyId ?? "") ?? [];
    list.push(...candidates);
    byDevice.set(partyId ?? "", list);
    this.deviceCandidates.set(call.callId, byDevice);
  }

  /** After an answer is selected: pass on that device's held candidates, drop the others'. */
  releaseDeviceCandidates(call: CallRecord): void {
    const held = this.deviceCandidates.get(call.callId)?.get(call.matrixPartyId ?? "");
    this.deviceCandidates.delete(call.callId);
    if (held?.length) {
      this.remember(call);
      this.toParty.add(call.callId, held);
    }
  }

  private async flushToMatrix(callId: string, candidates: IceCandidate[]): Promise<void> {
    const call = this.callsById.get(callId);
    if (!call?.roomId) return;
    await this.deps.homeserver.sendEvent(call.virtualUserId, call.roomId, ev.CALL_CANDIDATES,
      ev.candidatesContent(call.callId, call.bridgePartyId, candidates))
      .catch((err: Error) => log.warn("could not send candidates", { callId, error: err.message }));
  }

  private async flushToParty(callId: string, candidates: IceCandidate[]): Promise<void> {
    const call = this.callsById.get(callId);
    if (!call) return;
    await this.deps.party.send(call, { type: "candidates", candidates })
      .catch((err: Error) => log.warn("could not queue candidates", { callId, error: err.message }));
  }

  // ---- lifetime ----

  /** Arms the lifetime timer of a call that has not been answered yet. */
  schedule(call: CallRecord): void {
    if (!NOT_ANSWERED.includes(call.state) || this.timers.has(call.callId)) return;
    if (call.direction === "inbound") this.noteUnansweredInbound(call);
    const timer = setTimeout(() => {
      this.timers.delete(call.callId);
      this.withCall(call, (current) => this.expire(current))
        .catch((err: Error) => log.error("lifetime expiry failed", { callId: call.callId, error: err.message }));
    }, Math.max(0, call.expiresAt - this.deps.now()));
    timer.unref();
    this.timers.set(call.callId, timer);
  }

  /** The call was answered: it no longer times out. */
  answered(call: CallRecord): void {
    this.clearUnansweredInbound(call);
    clearTimeout(this.timers.get(call.callId));
    this.timers.delete(call.callId);
    this.remember(call);
  }

  expired(call: CallRecord): boolean {
    return this.deps.now() >= call.expiresAt;
  }

  /** The lifetime passed with no answer. */
  async expire(call: CallRecord): Promise<void> {
    if (!NOT_ANSWERED.includes(call.state)) return;
    if (call.direction === "relay_in" || call.direction === "relay_out") {
      await this.endRelay(call, "invite_timeout", { caller: "could_not_attend", next: "invite_timeout" });
    } else if (call.direction === "inbound") {
      await this.end(call, {
        reason: "invite_timeout",
        matrix: call.state === "ringing" ? { hangup: "invite_timeout" } : undefined,
        party: "could_not_attend",
        notice: "missed",
      });
    } else {
      // The Matrix user's own client ends its unanswered call at the lifetime.
      await this.end(call, { reason: "invite_timeout", party: "invite_timeout" });
    }
  }

  // ---- ending ----

  /** Ends a live call once: the state change is conditional, so a second
   *  ending (another device, a retried transaction) finds it already over. */
  async end(call: CallRecord, ending: Ending): Promise<void> {
    const ended = await this.deps.store.transitionCall(call.callId, LIVE_STATES, {
      state: ending.replacedBy ? "replaced" : "ended",
      endReason: ending.reason,
      endedAt: this.deps.now(),
      replacedBy: ending.replacedBy ?? null,
    });
    if (!ended) return;
    this.forget(call);
    const { homeserver, party } = this.deps;
    if (ending.matrix && call.roomId) {
      const content = "reject" in ending.matrix && call.matrixVersion === "1"
        ? ev.rejectContent(call.callId, call.bridgePartyId)
        : ev.hangupContent(call.callId, call.bridgePartyId, "hangup" in ending.matrix ? ending.matrix.hangup : "user_hangup");
      const type = "reject" in ending.matrix && call.matrixVersion === "1" ? ev.CALL_REJECT : ev.CALL_HANGUP;
      const roomId = call.roomId;
      const send = () => homeserver.sendEvent(call.virtualUserId, roomId, type, content, `end.${call.callId}`);
      await send().catch((err: Error) => {
        log.warn("could not send the Matrix side's ending; will retry", { callId: call.callId, error: err.message });
        this.resender.retry(`end.${call.callId}`, send);
      });
    }
    if (ending.party && call.tokenHash) await party.send(ended, { type: "hangup", reason: ending.party });
    else party.wake(call.callId);
    if (ending.notice && call.roomId) {
      const who = this.partyLabel(call);
      const text = ending.notice === "missed" ? notices.missedNotice(who)
        : ending.notice === "declined" ? notices.declinedNotice(who)
          : ending.notice === "not_put_through" ? notices.notPutThroughNotice(who)
            : notices.endedNotice(who, (ended.endedAt ?? 0) - (call.answeredAt ?? ended.endedAt ?? 0));
      await this.notice(call, text).catch((err: Error) => log.warn("could not send notice", { callId: call.callId, error: err.message }));
    }
    log.info("call ended", { callId: call.callId, direction: call.direction, reason: ending.reason });
  }

  /** A notice in the DM of a Matrix user and a WebCall party, creating the
   *  DM (and inviting the user) if they have none: e.g. a call forwarded
   *  before it ever rang. Failures are logged, never thrown. */
  async noticeInPairDm(matrixUserId: MatrixUserId, virtualUserId: MatrixUserId, caller: Address | null, text: string): Promise<void> {
    try {
      await this.deps.registry.ensure(virtualUserId, displayNameFor(caller));
      const ensured = await this.deps.rooms.ensure(matrixUserId, virtualUserId);
      if (!("room" in ensured)) return;
      await this.deps.homeserver.sendEvent(virtualUserId, ensured.room.roomId, "m.room.message", { msgtype: "m.notice", body: text });
    } catch (err) {
      log.warn("could not leave a notice", { matrixUserId, virtualUserId, error: (err as Error).message });
    }
  }

  /** Ends both legs of a relayed (forwarded) call, telling the caller and the
   *  next node what is given; the side whose hangup ended it is told nothing. */
  async endRelay(leg: CallRecord, reason: string, tell: { caller?: HangupReason; next?: HangupReason }): Promise<void> {
    const peer = leg.relayPeer ? await this.deps.store.getCall(leg.relayPeer) : undefined;
    const [callerLeg, nextLeg] = leg.direction === "relay_in" ? [leg, peer] : [peer, leg];
    if (callerLeg) await this.end(callerLeg, { reason, party: tell.caller });
    if (nextLeg) await this.end(nextLeg, { reason, party: tell.next });
  }

  async notice(call: CallRecord, text: string): Promise<void> {
    if (!call.roomId) return;
    await this.deps.homeserver.sendEvent(call.virtualUserId, call.roomId, "m.room.message", { msgtype: "m.notice", body: text });
  }

  /** Pairs with an inbound call not yet answered, so the Matrix side's glare
   *  check reads the store only when there may be something to find. */
  private readonly unansweredInbound = new Map<string, Set<string>>();

  noteUnansweredInbound(call: CallRecord): void {
    const pair = pairKey(call.matrixUserId, call.virtualUserId);
    const ids = this.unansweredInbound.get(pair) ?? new Set<string>();
    ids.add(call.callId);
    this.unansweredInbound.set(pair, ids);
  }

  mayHaveUnansweredInbound(call: Pick<CallRecord, "matrixUserId" | "virtualUserId">): boolean {
    return this.unansweredInbound.has(pairKey(call.matrixUserId, call.virtualUserId));
  }

  private clearUnansweredInbound(call: CallRecord): void {
    const pair = pairKey(call.matrixUserId, call.virtualUserId);
    const ids = this.unansweredInbound.get(pair);
    if (!ids) return;
    ids.delete(call.callId);
    if (!ids.size) this.unansweredInbound.delete(pair);
  }

  /** Records (or updates) the Matrix user's own call for glare checks. */
  trackOwnCall(call: CallRecord): void {
    this.ownCallsByPair.set(pairKey(call.matrixUserId, call.virtualUserId), call);
  }

  /** The Matrix user's own unanswered call in this pair, if any. */
  pendingOwnCall(call: Pick<CallRecord, "matrixUserId" | "virtualUserId">): CallRecord | undefined {
    const own = this.ownCallsByPair.get(pairKey(call.matrixUserId, call.virtualUserId));
    return own && (own.state === "preparing" || own.state === "ringing") ? own : undefined;
  }

  /** Keeps the latest record of a live call for the candidate batchers. */
  remember(call: CallRecord): void {
    this.callsById.set(call.callId, call);
  }

  private forget(call: CallRecord): void {
    const { callId } = call;
    const pair = pairKey(call.matrixUserId, call.virtualUserId);
    if (this.ownCallsByPair.get(pair)?.callId === callId) this.ownCallsByPair.delete(pair);
    this.clearUnansweredInbound(call);
    clearTimeout(this.timers.get(callId));
    this.timers.delete(callId);
    this.toMatrix.drop(callId);
    this.toParty.drop(callId);
    this.earlyPartyCandidates.delete(callId);
    this.deviceCandidates.delete(callId);
    this.callsById.delete(callId);
  }

  /** Lets queued per-call work finish, then stops timers and batches. */
  async close(): Promise<void> {
    await this.mutex.idle();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.resender.close();
    this.toMatrix.close();
    this.toParty.close();
  }
}

/** The virtual user's name: the address, marked ✓ when a signature proved
 *  it on this call and "(unverified)" when nothing did. */
export function displayNameFor(address: string | null, identity?: CallerIdentity | null): string {
  if (address === null) return "Anonymous caller";
  if (!identity) return address;
  return identity.verified ? `${address} ✓` : `${address} (unverified)`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

