import { createHash } from "node:crypto";
import { logger } from "../log";
import { BridgeError } from "../errors";
import { Address, parseAddress } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { SessionId, newPartyId, newSessionId, newSessionToken } from "../ids/session";
import { CallRecord } from "../store/Store";
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
    return this.actions.mutex.run(pairKey(matrixUserId, virtualUserId),
      () => this.setupLocked(request, caller, callee, matrixUserId, virtualUserId));
  }

  private async setupLocked(request: SetupRequest, caller: Address | null, callee: Address,
    matrixUserId: MatrixUserId, virtualUserId: MatrixUserId): Promise<SetupResponse> {
    const { deps } = this;
    const token = request.token ?? newSessionToken();
    const tokenHash = hashToken(token);
    const fingerprint = setupFingerprint(caller, callee);
    let sessionId = (request.sessionId ?? newSessionId()) as SessionId;

    const previous = request.sessionId ? await deps.store.getCall(sessionId) : undefined;
    if (previous) {
      // The same POST again: same answer, no second ring.
      if (previous.tokenHash === tokenHash && previous.setupFingerprint === fingerprint && previous.setupResponse) {
        return previous.setupResponse as SetupResponse;
      }
      // Someone else's session id: meet in another room instead.
      sessionId = newSessionId();
    }

    const dm = await deps.rooms.find(matrixUserId, virtualUserId);
    if (!dm) {
      if (!deps.calls.ringUnknownCallers) return COULD_NOT_ATTEND;
      if (!(await deps.homeserver.userExists(matrixUserId))) return COULD_NOT_ATTEND;
    }

    const now = deps.now();
    const lifetimeMs = Math.min(request.lifetime ?? deps.calls.defaultLifetimeMs, deps.calls.maxLifetimeMs);
    const response: SetupResponse = { status: "success", sessionId, token };
    const call: CallRecord = {
      callId: sessionId, direction: "inbound", state: "preparing", tokenHash,
      callerAddress: caller, calleeAddress: callee, matrixUserId, virtualUserId,
      roomId: dm?.roomId ?? null, bridgePartyId: newPartyId(), matrixPartyId: null, matrixVersion: "1",
      offer: request.offer!, answer: null, lifetimeMs, createdAt: now, expiresAt: now + lifetimeMs,
      answeredAt: null, endedAt: null,
      notifyUrl: request.notify ?? null, notifyToken: request.notify ? token : null,
      via: request.via ?? [], setupFingerprint: fingerprint, setupResponse: response,
      replacedBy: null, endReason: null,
    };

    if (dm) {
      const mine = await this.glareWithOwnCall(call, token);
      if (mine) return mine;
    }

    const inserted = await deps.store.insertCall(call);
    if (!inserted.inserted) {
      // Lost a race with a concurrent identical POST.
      const existing = inserted.existing;
      if (existing.tokenHash === tokenHash && existing.setupResponse) return existing.setupResponse as SetupResponse;
      return COULD_NOT_ATTEND;
    }
    this.actions.schedule(call);
    void this.actions.withCall(call, (current) => current.state === "preparing" ? this.actions.ring(current) : Promise.resolve())
      .catch((err: Error) => this.failedToRing(call, err));
    return response;
  }

  /**
   * The Matrix user is already calling this party (their invite reached the
   * bridge, so it is no longer "being prepared"): the lesser id survives.
   * Returns the setup answer when the user's call wins, else ends it.
   */
  private async glareWithOwnCall(call: CallRecord, token: string): Promise<SetupResponse | undefined> {
    const { deps } = this;
    const own = (await deps.store.liveCallsInRoom(call.roomId!))
      .find((c) => c.direction === "outbound" && c.state === "ringing" && c.tokenHash === ""
        && c.matrixUserId === call.matrixUserId && c.virtualUserId === call.virtualUserId);
    if (!own) return undefined;
    if (lesserWins(own.callId, call.callId) === call.callId) {
      await this.actions.end(own, { reason: "glare", matrix: { reject: true }, replacedBy: call.callId });
      return undefined;
    }
    // The user's call survives: the WebCall caller answers its offer instead.
    const attached = await deps.store.transitionCall(own.callId, ["ringing"], {
      tokenHash: call.tokenHash, notifyUrl: call.notifyUrl, notifyToken: call.notifyToken,
    });
    if (!attached) return undefined;
    const response: SetupResponse = { status: "success", sessionId: own.callId, token, offer: own.offer };
    await deps.store.insertCall({ ...call, state: "replaced", replacedBy: own.callId, endReason: "glare", endedAt: deps.now(), setupResponse: response });
    await deps.party.replay(attached);
    log.info("glare: the Matrix user's own call survives", { lost: call.callId, kept: own.callId });
    return response;
  }

  private async failedToRing(call: CallRecord, err: Error): Promise<void> {
    log.warn("could not ring the callee", { callId: call.callId, error: err.message });
    await this.actions.withCall(call, (current) => this.actions.end(current, { reason: "unreachable", party: "could_not_attend" }))
      .catch((e: Error) => log.error("could not end a call that failed to ring", { callId: call.callId, error: e.message }));
  }
}

function setupFingerprint(caller: Address | null, callee: Address): string {
  return createHash("sha256").update(`${caller ?? ""}\u0000${callee}`).digest("hex");
}
