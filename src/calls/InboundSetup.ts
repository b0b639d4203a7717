import { createHash } from "node:crypto";
import { logger } from "../log";
import { DomainError } from "../errors/DomainError";
import { Address, parseAddress } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { SessionId, newPartyId, newSessionId, newSessionToken } from "../ids/session";
import { SessionDescription } from "../protocol/types";
import { CallRecord } from "../store/Store";
import { CallerIdentity } from "../model/callerIdentity";
import { CheckedCaller } from "../signing/CallerCheck";
import { RequestContext } from "../webcall/WebCallNode";
import { SetupRequest, SetupResponse } from "../protocol/types";
import { CallActions, displayNameFor, hashToken } from "./CallActions";
import { CallDeps, pairKey } from "./CallDeps";
import { lesserWins } from "./glare";
import { answerNeutrally, proofAllowance } from "./neutralAnswer";
import * as notices from "./notices";
import { Relay } from "./Relay";

const log = logger("inbound");
const COULD_NOT_ATTEND: SetupResponse = { status: "could_not_attend" };

/**
 * POST /webcall: a WebCall caller asks to ring one of the homeserver's users.
 * Receiver chooses: the callee's rules decide whether it rings, is refused or
 * is forwarded (to another of our users, whose rules then apply, or to
 * another node through the Relay). A call that rings is answered once it is
 * stored; ringing carries on under the call's mutex, so a retry, a hangup or
 * a crash finds the call where it is.
 *
 * Neutral refusal: every could_not_attend is sent `calls.neutralAnswerMs`
 * after the request arrived (plus the time its signatures took to check, in
 * whole steps, the same whoever is called), whichever path routing took to
 * it, because the whole routing runs inside answerNeutrally; and a first-contact callee
 * the homeserver has not confirmed by then is not rung, so refused, unknown
 * and offline callees look alike in body and in timing. Both the deadline
 * and the waits are on `deps.clock`.
 */
export class InboundSetup {
  constructor(private readonly deps: CallDeps, private readonly actions: CallActions, private readonly relay: Relay) {}

  /** `ctx.receivedAt`: `deps.clock.now()` when the request arrived; `ctx.signer`:
   *  the node whose signature on the request checked out, if any. */
  async setup(request: SetupRequest, ctx: RequestContext): Promise<SetupResponse> {
    const { clock } = this.deps;
    const started = this.deps.now();
    const callee = parseAddress(request.calleeId, "calleeId");
    const caller = request.callerId === undefined ? null : parseAddress(request.callerId, "callerId");
    if (!request.offer) {
      throw new DomainError("WEBCALL_NEED_SESSION", "I can't find a room: bring an offer and try again");
    }
    const checkStarted = clock.now();
    const checked = await this.deps.callers.identify({ caller, callee, signer: ctx.signer, chain: request.chain });
    // The floor starts once the caller's proofs are checked: fetching a node's
    // keys takes however long it takes, the same whoever is called, and must
    // not eat into the time the homeserver has to confirm the callee. Only in
    // whole steps, so event-loop delay never moves the deadline (proofAllowance).
    const proofMs = (ctx.signatureCheckMs ?? 0) + clock.now() - checkStarted;
    const neutralAt = ctx.receivedAt + proofAllowance(proofMs) + this.deps.calls.neutralAnswerMs;
    const arrival: Arrival = { request, offer: request.offer, caller, callee, signer: ctx.signer, checked, started, neutralAt };
    return answerNeutrally(clock, neutralAt, () => this.route(arrival));
  }

  /** Follows the callee's rules, and local forwards, to a ring, a refusal or a relay. */
  private async route(a: Arrival): Promise<SetupResponse> {
    const { deps } = this;
    const { request, offer, caller, callee, signer, checked, started, neutralAt } = a;
    const via = request.via ?? [];
    // WebCall/1 §4: a node seen twice, or too long a chain, ends the attempt.
    if (new Set(via).size !== via.length || via.length > deps.maxForwardHops) return COULD_NOT_ATTEND;
    const identity: CallerIdentity = { ...checked.identity, forwards: [...checked.identity.forwards] };
    const facts = { caller, verified: identity.verified, at: started };
    const seen = new Set<MatrixUserId>();
    for (let target = callee; ;) {
      const userId = deps.localUsers.userIdFor(target);
      if (!userId) return COULD_NOT_ATTEND;
      if (seen.has(userId) || seen.size > deps.maxForwardHops) return COULD_NOT_ATTEND;
      seen.add(userId);
      const decision = await deps.rules.decide(userId, facts);
      if (decision.action === "ring") return this.ring(request, offer, caller, target, userId, neutralAt, { identity, peerNode: signer ?? null });
      const virtualUserId = deps.virtualUsers.userIdFor(caller);
      const who = displayNameFor(caller);
      const by = notices.byWhat(decision.rule, decision.label);
      if (decision.action === "refuse") {
        void this.noticeIfWanted(userId, virtualUserId, caller, notices.refusedNotice(who, by));
        return COULD_NOT_ATTEND;
      }
      const next = decision.forwardTo!;
      void this.actions.noticeInPairDm(userId, virtualUserId, caller, notices.forwardedNotice(who, next, by));
      const reason = hopReason(decision.rule, decision.label);
      if (deps.localUsers.userIdFor(next)) {
        identity.forwards.push({ by: deps.self.domain, reason });
        target = next;
        continue;
      }
      return this.relay.forward({
        request, offer, caller, callee: target, matrixUserId: userId, virtualUserId, next, started,
        identity, signer, chain: checked.chain, reason,
      });
    }
  }

  /** Quiet by default: a refused call leaves a notice only for users who asked for one. */
  private async noticeIfWanted(userId: MatrixUserId, virtualUserId: MatrixUserId, caller: Address | null, text: string): Promise<void> {
    try {
      if ((await this.deps.rules.get(userId)).notifyRefused) await this.actions.noticeInPairDm(userId, virtualUserId, caller, text);
    } catch (err) {
      log.warn("could not leave a notice for a refused call", { userId, error: (err as Error).message });
    }
  }

  /** Rings the callee. The answer is given as soon as the call is stored;
   *  ringing goes on in the same turn of the pair's mutex, so nothing can
   *  slip in between. */
  private ring(request: SetupRequest, offer: SessionDescription, caller: Address | null, callee: Address,
    matrixUserId: MatrixUserId, neutralAt: number, proof: Proof): Promise<SetupResponse> {
    const virtualUserId = this.deps.virtualUsers.userIdFor(caller);
    return new Promise<SetupResponse>((answer, fail) => {
      void this.actions.mutex.run(pairKey(matrixUserId, virtualUserId), async () => {
        let decided: { response: SetupResponse; ring?: CallRecord };
        try {
          decided = await this.decide(request, offer, caller, callee, matrixUserId, virtualUserId, neutralAt, proof);
        } catch (err) {
          return fail(err);
        }
        answer(decided.response);
        if (!decided.ring) return;
        await this.actions.ring(decided.ring).catch((err: Error) => this.failedToRing(decided.ring!, err));
      });
    });
  }

  /**
   * First contact: whether the callee exists, as far as the homeserver can
   * say by the neutral answer time. An unreachable or slow homeserver (the
   * callee is offline) is no different to the caller from an unknown callee.
   */
  private async confirmInTime(matrixUserId: MatrixUserId, neutralAt: number): Promise<boolean> {
    const { users, calls, clock } = this.deps;
    if (users.knownAbsent(matrixUserId)) return false;
    const lookup = users.exists(matrixUserId).catch((err: Error) => {
      log.warn("could not confirm the callee", { matrixUserId, error: err.message });
      return false;
    });
    if (calls.neutralAnswerMs <= 0) return lookup;
    const decided = new AbortController();
    const late = clock.sleepUntil(neutralAt, decided.signal).then(() => false);
    return Promise.race([lookup, late]).finally(() => decided.abort());
  }

  private async decide(request: SetupRequest, offer: SessionDescription, caller: Address | null, callee: Address,
    matrixUserId: MatrixUserId, virtualUserId: MatrixUserId, neutralAt: number, proof: Proof): Promise<{ response: SetupResponse; ring?: CallRecord }> {
    const { deps } = this;
    const token = request.token ?? newSessionToken();
    const tokenHash = hashToken(token);
    const fingerprint = setupFingerprint(caller, callee);

    const dm = await deps.rooms.find(matrixUserId, virtualUserId);
    if (!dm && !(await this.confirmInTime(matrixUserId, neutralAt))) return { response: COULD_NOT_ATTEND };

    const now = deps.now();
    const lifetimeMs = Math.min(request.lifetime ?? deps.calls.defaultLifetimeMs, deps.calls.maxLifetimeMs);
    const call = (sessionId: SessionId): CallRecord => ({
      callId: sessionId, direction: "inbound", state: "preparing", tokenHash,
      callerAddress: caller, calleeAddress: callee, matrixUserId, virtualUserId,
      roomId: dm?.roomId ?? null, bridgePartyId: newPartyId(), matrixPartyId: null, matrixVersion: "1",
      offer, answer: null, lifetimeMs, createdAt: now, expiresAt: now + lifetimeMs,
      answeredAt: null, endedAt: null,
      notifyUrl: request.notify ?? null, notifyToken: request.notify ? token : null,
      via: request.via ?? [], setupFingerprint: fingerprint,
      setupResponse: { status: "success", sessionId, token },
      replacedBy: null, endReason: null, relayPeer: null, peerNode: proof.peerNode, callerIdentity: proof.identity,
    });

    let record = call((request.sessionId ?? newSessionId()) as SessionId);
    const lost = dm ? await this.glareWithOwnCall(record) : undefined;
    if (lost) return { response: lost };
    let inserted = await deps.store.insertCall(record);
    if (!inserted.inserted) {
      const previous = inserted.existing;
      // The same POST again: same answer, no second ring.
      if (previous.tokenHash === tokenHash && previous.setupFingerprint === fingerprint && previous.setupResponse) {
        return { response: previous.setupResponse as SetupResponse };
      }
      // Someone else's session id: meet in another room instead.
      record = call(newSessionId());
      inserted = await deps.store.insertCall(record);
      if (!inserted.inserted) return { response: COULD_NOT_ATTEND };
    }
    this.actions.schedule(record);
    return { response: record.setupResponse as SetupResponse, ring: record };
  }

  /**
   * The Matrix user is calling this party too (WebCall/1 §3). While the
   * user's call is still being prepared (its node not yet asked), the
   * arriving call wins; once it is on its way, the lesser id wins. Returns the
   * setup answer when the user's call survives, else ends it and returns
   * undefined so the arriving call rings.
   */
  private async glareWithOwnCall(call: CallRecord): Promise<SetupResponse | undefined> {
    const { deps } = this;
    const own = this.actions.pendingOwnCall(call);
    if (!own) return undefined;
    const onItsWay = own.state === "ringing" || own.tokenHash !== "";
    // With no node token to hand over (its other party pulls its events), the
    // user's call cannot be shared with this caller: the arriving call wins.
    if (!onItsWay || !own.notifyToken || lesserWins(own.callId, call.callId) === call.callId) {
      await this.actions.end(own, { reason: "glare", matrix: { reject: true }, party: onItsWay ? "user_hangup" : undefined, replacedBy: call.callId });
      return undefined;
    }
    // The user's call survives: the caller answers its offer instead, with the
    // token the caller's node already holds for it.
    const response: SetupResponse = { status: "success", sessionId: own.callId, token: own.notifyToken, offer: own.offer };
    await deps.store.insertCall({ ...call, state: "replaced", replacedBy: own.callId, endReason: "glare", endedAt: deps.now(), setupResponse: response });
    log.info("glare: the Matrix user's own call survives", { lost: call.callId, kept: own.callId });
    return response;
  }


  /** Runs inside the pair's mutex, after ring() gave up. */
  private async failedToRing(call: CallRecord, err: Error): Promise<void> {
    log.warn("could not ring the callee", { callId: call.callId, error: err.message });
    const current = await this.deps.store.getCall(call.callId);
    if (current) {
      await this.actions.end(current, { reason: "unreachable", party: "could_not_attend" })
        .catch((e: Error) => log.error("could not end a call that failed to ring", { callId: call.callId, error: e.message }));
    }
  }
}

/** A setup as it arrived. */
interface Arrival {
  request: SetupRequest;
  offer: SessionDescription;
  caller: Address | null;
  callee: Address;
  signer: string | undefined;
  checked: CheckedCaller;
  started: number;
  neutralAt: number;
}

/** What signatures proved, kept with the call. */
interface Proof {
  identity: CallerIdentity;
  peerNode: string | null;
}

/** How a forwarding hop names the callee's choice to the next node. */
function hopReason(rule: number | null, label: string | undefined): string {
  if (label) return `${label} rule`;
  return rule === null ? "default" : `rule ${rule}`;
}

/** Identifies a setup's parties, so a retry with the same session id and token is recognised. */
export function setupFingerprint(caller: Address | null, callee: Address): string {
  return createHash("sha256").update(`${caller ?? ""}\u0000${callee}`).digest("hex");
}
