import { logger } from "../log";
import { domainOf } from "../ids/address";
import { SessionId, newPartyId, newSessionToken } from "../ids/session";
import { CallRecord } from "../store/Store";
import { SetupRequest, SetupResponse } from "../protocol/types";
import { postSetup } from "../webcall/setupClient";
import { extendChain, PLACED } from "../signing/chain";
import { CallActions, hashToken } from "./CallActions";
import { CallDeps } from "./CallDeps";
import { setupFingerprint } from "./InboundSetup";

const log = logger("outbound");

/**
 * A Matrix user calls a WebCall address: find the callee's node and POST the
 * call to it. The POST runs outside the pair's mutex, because the other node
 * may be calling us at the same moment and must be able to get through
 * (glare). Retries reuse the same sessionId and token, so the callee never
 * rings twice.
 */
export class OutboundPlacement {
  constructor(private readonly deps: CallDeps, private readonly actions: CallActions) {}

  async place(call: CallRecord): Promise<void> {
    try {
      await this.tryPlace(call);
    } catch (err) {
      log.warn("could not place the call", { callId: call.callId, error: (err as Error).message });
      await this.actions.withCall(call, (current) => this.notPutThrough(current, "unreachable"));
    }
  }

  private async tryPlace(call: CallRecord): Promise<void> {
    const attached = call.notifyUrl && call.notifyToken ? call : await this.attachNode(call);
    if (!attached) return;
    const { deps } = this;
    const request: SetupRequest = {
      callerId: call.callerAddress!, calleeId: call.calleeAddress, sessionId: call.callId, token: attached.notifyToken!,
      offer: call.offer, lifetime: Math.max(1000, call.expiresAt - deps.now()), notify: deps.self.publicUrl, via: [deps.self.domain],
      // The chain starts here: this node vouches for its own user, so a node
      // that forwards the call can prove who is calling to the next one.
      chain: extendChain(deps.keys, [], { from: call.callerAddress!, to: call.calleeAddress, reason: PLACED, ts: Date.now() }),
    };
    const response = await postSetup(deps.outbound, deps.keys, {
      endpoint: attached.notifyUrl!, destination: domainOf(call.calleeAddress), request, deadline: call.expiresAt,
    }, deps.now);
    await this.actions.withCall(call, (current) => this.onResponse(current, response, attached.notifyUrl!));
  }

  /** Finds the callee's node and attaches it to the call (unless the call
   *  ended meanwhile, e.g. lost glare while still being prepared). */
  private async attachNode(call: CallRecord): Promise<CallRecord | undefined> {
    const endpoint = await this.deps.discovery.endpointFor(domainOf(call.calleeAddress));
    if (!endpoint) {
      await this.actions.withCall(call, (current) => this.notPutThrough(current, "no_node"));
      return undefined;
    }
    const token = newSessionToken();
    // The node is attached before the POST: its first events may overtake its answer.
    const attached = await this.actions.withCall(call, async (current) =>
      current.state === "preparing" && current.tokenHash === ""
        ? this.deps.store.transitionCall(call.callId, ["preparing"], {
          tokenHash: hashToken(token), notifyUrl: endpoint, notifyToken: token, peerNode: domainOf(call.calleeAddress),
        })
        : undefined);
    if (attached) this.actions.trackOwnCall(attached);
    return attached;
  }

  private async onResponse(call: CallRecord, response: SetupResponse, endpoint: string): Promise<void> {
    if (call.state !== "preparing" && call.state !== "ringing") return; // ended (or answered) meanwhile
    if (response.status === "could_not_attend") return this.notPutThrough(call, "could_not_attend");
    if (response.sessionId !== call.callId) {
      if (!response.offer) return this.notPutThrough(call, "renamed_session");
      return this.adoptRemoteCall(call, response.sessionId as SessionId, response.token, response.offer, endpoint);
    }
    const token = response.token;
    const next = await this.deps.store.transitionCall(call.callId, ["preparing"], {
      state: "ringing",
      // "use this key instead"
      ...(token !== call.notifyToken ? { tokenHash: hashToken(token), notifyToken: token } : {}),
    });
    if (next) this.actions.trackOwnCall(next);
  }

  /**
   * Glare decided at the callee's node: its own call to our user survived and
   * came back in the setup answer. Our user's call ends, and theirs rings
   * here as an inbound call (unless its own POST already made it one).
   */
  async adoptRemoteCall(own: CallRecord, sessionId: SessionId, token: string, offer: CallRecord["offer"], endpoint: string): Promise<void> {
    const { deps, actions } = this;
    await actions.end(own, { reason: "glare", matrix: { reject: true }, replacedBy: sessionId });
    const now = deps.now();
    const theirs: CallRecord = {
      callId: sessionId, direction: "inbound", state: "preparing", tokenHash: hashToken(token),
      callerAddress: own.calleeAddress, calleeAddress: own.callerAddress!, matrixUserId: own.matrixUserId,
      virtualUserId: own.virtualUserId, roomId: own.roomId, bridgePartyId: newPartyId(), matrixPartyId: null,
      matrixVersion: "1", offer, answer: null, lifetimeMs: own.expiresAt - now, createdAt: now, expiresAt: own.expiresAt,
      answeredAt: null, endedAt: null, notifyUrl: endpoint, notifyToken: token, via: [],
      setupFingerprint: setupFingerprint(own.calleeAddress, own.callerAddress!),
      setupResponse: { status: "success", sessionId, token }, replacedBy: null, endReason: null, relayPeer: null,
      // The answer came from the node discovery names for the callee's domain.
      peerNode: domainOf(own.calleeAddress),
      callerIdentity: { verified: true, verifiedBy: domainOf(own.calleeAddress), forwards: [] },
    };
    const inserted = await deps.store.insertCall(theirs);
    if (!inserted.inserted) return;
    actions.schedule(theirs);
    log.info("glare: the callee's own call survives", { lost: own.callId, kept: sessionId });
    await actions.ring(theirs);
  }

  private notPutThrough(call: CallRecord, reason: string): Promise<void> {
    return this.actions.end(call, { reason, matrix: { reject: true }, notice: "not_put_through" });
  }
}
