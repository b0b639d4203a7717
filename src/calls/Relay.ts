import { logger } from "../log";
import { Address, domainOf } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { SessionId, newPartyId, newSessionId, newSessionToken } from "../ids/session";
import { SessionDescription } from "../protocol/types";
import { CallRecord } from "../store/Store";
import { CallerIdentity } from "../model/callerIdentity";
import { extendChain } from "../signing/chain";
import { Hop, SessionEvent, SetupRequest, SetupResponse } from "../protocol/types";
import { postSetup } from "../webcall/setupClient";
import { CallActions, hashToken } from "./CallActions";
import { CallDeps } from "./CallDeps";
import { setupFingerprint } from "./InboundSetup";

const log = logger("relay");
const COULD_NOT_ATTEND: SetupResponse = { status: "could_not_attend" };

export interface Forwarding {
  request: SetupRequest;
  offer: SessionDescription;
  caller: Address | null;
  /** The address that forwards (our user's). */
  callee: Address;
  matrixUserId: MatrixUserId;
  virtualUserId: MatrixUserId;
  /** Where the callee's rule sends the call: an address on another node. */
  next: Address;
  started: number;
  /** What signatures proved about the caller. */
  identity: CallerIdentity;
  /** The node whose signature on the setup checked out, if any. */
  signer: string | undefined;
  /** The forwarding chain that proved it (empty when none did): extended with this node's hop. */
  chain: readonly Hop[];
  /** Why the callee's rules forward, for this node's hop ("work hours rule"). */
  reason: string;
}

/**
 * A call one of our users forwards to another node (WebCall/1 §4). The caller
 * only knows this node, so the call is relayed as two legs: relay_in faces
 * the caller (its token, its notify), relay_out faces the next node (a fresh
 * session and token, with this node as its notify). Every session event on
 * one leg is passed to the other; the first hangup, or the lifetime, ends
 * both. The setup waits for the next node's answer, so a loop or a refusal
 * further on reaches the caller as this setup's could_not_attend.
 */
export class Relay {
  /** Setups waiting for the next node, so a retried POST waits for the same answer. */
  private readonly pending = new Map<string, Promise<SetupResponse>>();

  constructor(private readonly deps: CallDeps, private readonly actions: CallActions) {}

  async forward(f: Forwarding): Promise<SetupResponse> {
    const { deps } = this;
    const via = [...(f.request.via ?? []), this.deps.self.domain];
    if (new Set(via).size !== via.length || via.length > deps.maxForwardHops) return COULD_NOT_ATTEND;
    const endpoint = await this.deps.discovery.endpointFor(domainOf(f.next)).catch(() => undefined);
    if (!endpoint) return COULD_NOT_ATTEND;

    const token = f.request.token ?? newSessionToken();
    const legs = this.legs(f, token, endpoint);
    const inserted = await deps.store.insertCall(legs.callerLeg);
    if (!inserted.inserted) return this.retried(inserted.existing, legs.callerLeg);
    await deps.store.insertCall(legs.nextLeg);
    this.actions.schedule(legs.callerLeg);
    this.actions.schedule(legs.nextLeg);

    const chain = extendChain(deps.keys, f.chain, { from: f.callee, to: f.next, reason: f.reason, ts: Date.now() });
    const answer = this.putThrough(legs.callerLeg, legs.nextLeg, token, endpoint, { via, chain }, f.started);
    this.pending.set(legs.callerLeg.callId, answer);
    try {
      return await answer;
    } finally {
      this.pending.delete(legs.callerLeg.callId);
    }
  }

  private legs(f: Forwarding, token: string, endpoint: string): { callerLeg: CallRecord; nextLeg: CallRecord } {
    const now = this.deps.now();
    const lifetimeMs = Math.min(f.request.lifetime ?? this.deps.calls.defaultLifetimeMs, this.deps.calls.maxLifetimeMs);
    const callerLegId = (f.request.sessionId ?? newSessionId()) as SessionId;
    const nextLegId = newSessionId();
    const nextToken = newSessionToken();
    const common = {
      state: "preparing" as const, callerAddress: f.caller, matrixUserId: f.matrixUserId, virtualUserId: f.virtualUserId,
      roomId: null, bridgePartyId: newPartyId(), matrixPartyId: null, matrixVersion: "1", offer: f.offer, answer: null,
      lifetimeMs, createdAt: now, expiresAt: now + lifetimeMs, answeredAt: null, endedAt: null,
      via: f.request.via ?? [], setupResponse: null, replacedBy: null, endReason: null,
    };
    return {
      callerLeg: {
        ...common, callId: callerLegId, direction: "relay_in", tokenHash: hashToken(token), calleeAddress: f.callee,
        notifyUrl: f.request.notify ?? null, notifyToken: f.request.notify ? token : null,
        setupFingerprint: setupFingerprint(f.caller, f.callee), relayPeer: nextLegId,
        peerNode: f.signer ?? null, callerIdentity: f.identity,
      },
      nextLeg: {
        ...common, callId: nextLegId, direction: "relay_out", tokenHash: hashToken(nextToken), calleeAddress: f.next,
        notifyUrl: endpoint, notifyToken: nextToken, setupFingerprint: null, relayPeer: callerLegId,
        peerNode: domainOf(f.next), callerIdentity: null,
      },
    };
  }

  /** The same POST again gets the same answer; anything else with that session id is refused. */
  private async retried(existing: CallRecord, attempt: CallRecord): Promise<SetupResponse> {
    const same = existing.direction === "relay_in" && existing.tokenHash === attempt.tokenHash
      && existing.setupFingerprint === attempt.setupFingerprint;
    if (!same) return COULD_NOT_ATTEND;
    const inFlight = this.pending.get(existing.callId);
    if (inFlight) return inFlight;
    return (existing.setupResponse as SetupResponse | null) ?? COULD_NOT_ATTEND;
  }

  private async putThrough(callerLeg: CallRecord, nextLeg: CallRecord, token: string, endpoint: string,
    path: { via: string[]; chain: Hop[] }, started: number): Promise<SetupResponse> {
    const { deps } = this;
    const request: SetupRequest = {
      calleeId: nextLeg.calleeAddress, sessionId: nextLeg.callId, token: nextLeg.notifyToken!, offer: nextLeg.offer,
      lifetime: Math.max(1000, nextLeg.expiresAt - deps.now()), notify: this.deps.self.publicUrl, via: path.via, chain: path.chain,
      ...(callerLeg.callerAddress ? { callerId: callerLeg.callerAddress } : {}),
    };
    let response: SetupResponse;
    try {
      response = await postSetup(deps.outbound, deps.keys, {
        endpoint, destination: nextLeg.peerNode!, request, deadline: Math.min(nextLeg.expiresAt, started + deps.forwardBudgetMs),
      }, deps.now);
    } catch (err) {
      log.info("the next node could not be reached", { callId: callerLeg.callId, error: (err as Error).message });
      response = COULD_NOT_ATTEND;
    }
    const answer = await this.actions.withCall(callerLeg, () => this.onResponse(callerLeg, nextLeg, token, response));
    return answer ?? COULD_NOT_ATTEND;
  }

  private async onResponse(callerLeg: CallRecord, nextLeg: CallRecord, token: string, response: SetupResponse): Promise<SetupResponse> {
    const { store } = this.deps;
    // A renamed session, or the next callee's own call coming back (glare
    // there), cannot be relayed: both are treated as not attending.
    const usable = response.status === "success" && response.sessionId === nextLeg.callId && !response.offer;
    if (!usable) {
      await this.actions.endRelay(callerLeg, "not_put_through", { next: response.status === "success" ? "user_hangup" : undefined });
      return COULD_NOT_ATTEND;
    }
    const nextToken = response.token;
    const next = await store.transitionCall(nextLeg.callId, ["preparing"], {
      state: "ringing", ...(nextToken !== nextLeg.notifyToken ? { tokenHash: hashToken(nextToken), notifyToken: nextToken } : {}),
    });
    const answer: SetupResponse = { status: "success", sessionId: callerLeg.callId, token };
    const mine = await store.transitionCall(callerLeg.callId, ["preparing"], { state: "ringing", setupResponse: answer });
    // Ended meanwhile (the caller hung up, or the lifetime passed).
    if (!next || !mine) return COULD_NOT_ATTEND;
    log.info("call forwarded", { callId: callerLeg.callId, next: nextLeg.calleeAddress });
    return answer;
  }

  /** A session event on one leg, passed on to the other. Runs under the pair's mutex. */
  async onEvent(leg: CallRecord, event: SessionEvent): Promise<CallRecord | undefined> {
    const { deps, actions } = this;
    const peer = leg.relayPeer ? await deps.store.getCall(leg.relayPeer) : undefined;
    if (!peer) return leg;
    switch (event.type) {
      case "candidates":
        await deps.party.send(peer, { type: "candidates", candidates: event.candidates });
        return leg;
      case "negotiate":
        if (leg.state === "connected") await deps.party.send(peer, { type: "negotiate", description: event.description });
        return leg;
      case "answer": {
        // Only the next node answers (FromParty refuses an answer from the caller).
        if (leg.state !== "ringing" && leg.state !== "preparing") return leg;
        const now = deps.now();
        const connected = await deps.store.transitionCall(leg.callId, ["ringing", "preparing"], { state: "connected", answer: event.answer, answeredAt: now });
        const callerSide = await deps.store.transitionCall(peer.callId, ["ringing", "preparing"], { state: "connected", answer: event.answer, answeredAt: now });
        if (!connected || !callerSide) return connected ?? leg;
        actions.answered(connected);
        actions.answered(callerSide);
        await deps.party.send(callerSide, { type: "answer", answer: event.answer });
        return connected;
      }
      case "hangup":
        await actions.endRelay(leg, "party_hangup", leg.direction === "relay_in" ? { next: event.reason } : { caller: event.reason });
        return { ...leg, state: "ended" };
      case "replace":
        // Glare at the next node: its callee's own call goes to the caller directly.
        await actions.endRelay(leg, "replaced_further_on", { caller: "could_not_attend" });
        return { ...leg, state: "ended" };
      default:
        return leg;
    }
  }

  /** After a restart: a relay whose setup was still waiting for the next node
   *  lost that answer, so it ends; live relays carry on with their timers. */
  async resume(leg: CallRecord): Promise<void> {
    if (leg.state === "preparing") {
      await this.actions.withCall(leg, (current) => this.actions.endRelay(current, "restarted",
        { caller: "could_not_attend", next: "user_hangup" }));
      return;
    }
    this.actions.schedule(leg);
  }
}
