import { createHash } from "node:crypto";
import { logger } from "../log";
import { BridgeError } from "../errors";
import { Address, parseAddress } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { SessionId, newPartyId, newSessionId, newSessionToken } from "../ids/session";
import { CallRecord, SessionDescription } from "../store/Store";
import { SetupRequest, SetupResponse } from "../webcall/protocol";
import { CallActions, hashToken } from "./CallActions";
import { CallDeps, pairKey } from "./CallDeps";
import { lesserWins } from "./glare";

const log = logger("inbound");
const COULD_NOT_ATTEND: SetupResponse = { status: "could_not_attend" };

/**
 * POST /webcall: a WebCall caller asks to ring one of the homeserver's users.
 * The answer is given once the call is stored; ringing carries on under the
 * call's mutex, so a retry, a hangup or a crash finds the call where it is.
 */
export class InboundSetup {
  constructor(private readonly deps: CallDeps, private readonly actions: CallActions) {}

  async setup(request: SetupRequest): Promise<SetupResponse> {
    const callee = parseAddress(request.calleeId, "calleeId");
    const caller = request.callerId === undefined ? null : parseAddress(request.callerId, "callerId");
    if (!request.offer) {
      throw new BridgeError(422, "WEBCALL_NEED_SESSION", "I can't find a room: bring an offer and try again");
    }
    const matrixUserId = this.deps.localUsers.userIdFor(callee);
    if (!matrixUserId) return COULD_NOT_ATTEND;
    const virtualUserId = this.deps.virtualUsers.userIdFor(caller);
    // The answer is given as soon as the call is stored; ringing goes on in
    // the same turn of the pair's mutex, so nothing can slip in between.
    return new Promise<SetupResponse>((answer, fail) => {
      void this.actions.mutex.run(pairKey(matrixUserId, virtualUserId), async () => {
        let decided: { response: SetupResponse; ring?: CallRecord };
        try {
          decided = await this.decide(request, request.offer!, caller, callee, matrixUserId, virtualUserId);
        } catch (err) {
          return fail(err);
        }
        answer(decided.response);
        if (!decided.ring) return;
        await this.actions.ring(decided.ring).catch((err: Error) => this.failedToRing(decided.ring!, err));
      });
    });
  }

  private async decide(request: SetupRequest, offer: SessionDescription, caller: Address | null, callee: Address,
    matrixUserId: MatrixUserId, virtualUserId: MatrixUserId): Promise<{ response: SetupResponse; ring?: CallRecord }> {
    const { deps } = this;
    const token = request.token ?? newSessionToken();
    const tokenHash = hashToken(token);
    const fingerprint = setupFingerprint(caller, callee);

    const dm = await deps.rooms.find(matrixUserId, virtualUserId);
    if (!dm) {
      if (!deps.calls.ringUnknownCallers) return { response: COULD_NOT_ATTEND };
      if (!(await deps.homeserver.userExists(matrixUserId))) return { response: COULD_NOT_ATTEND };
    }

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
      replacedBy: null, endReason: null, relayPeer: null,
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

/** Identifies a setup's parties, so a retry with the same session id and token is recognised. */
export function setupFingerprint(caller: Address | null, callee: Address): string {
  return createHash("sha256").update(`${caller ?? ""}\u0000${callee}`).digest("hex");
}
