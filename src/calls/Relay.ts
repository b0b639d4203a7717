import { logger } from "../log";
import { Address, domainOf } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { SessionId, newSessionId, newSessionToken } from "../ids/session";
import { CallerIdentity } from "../model/callerIdentity";
import { RelayInSession, RelayOutSession, RelaySession, Session, lifetime, pushTarget, relayInSession, relayOutSession } from "../model/session";
import { SESSION_MOVES } from "../model/transitions";
import { extendChain } from "../signing/chain";
import { Hop, SessionDescription, SessionEvent, SetupRequest, SetupResponse } from "../protocol/types";
import { CallContext, hashToken, setupFingerprint } from "./context";
import { Endings } from "./Endings";

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
 * only knows this node, so the call is relayed as two sessions: relay_in
 * faces the caller (its token, its notify), relay_out the next node (a fresh
 * session and token, with this node as its notify). Every session event on
 * one is passed to the other; the first hangup, or the lifetime, ends both.
 * The setup waits for the next node's answer, so a loop or a refusal
 * further on reaches the caller as this setup's could_not_attend.
 */
export class Relay {
  /** Setups waiting for the next node, so a retried POST waits for the same answer. */
  private readonly pending = new Map<string, Promise<SetupResponse>>();

  constructor(private readonly ctx: CallContext, private readonly endings: Endings) {}

  async forward(f: Forwarding): Promise<SetupResponse> {
    const { core } = this.ctx;
    const via = [...(f.request.via ?? []), core.self.domain];
    if (new Set(via).size !== via.length || via.length > core.maxForwardHops) return COULD_NOT_ATTEND;
    const endpoint = await core.party.endpointFor(domainOf(f.next)).catch(() => undefined);
    if (!endpoint) return COULD_NOT_ATTEND;

    const token = f.request.token ?? newSessionToken();
    const { callerHalf, nextHalf, nextToken } = this.halves(f, token, endpoint);
    const inserted = await core.store.insertSession(callerHalf, []);
    if (!inserted.inserted) return this.retried(inserted.existing, callerHalf);
    await core.store.insertSession(nextHalf, []);
    this.schedule(callerHalf);
    this.schedule(nextHalf);

    const chain = extendChain(core.keys, f.chain, { from: f.callee, to: f.next, reason: f.reason, ts: Date.now() });
    const answer = this.putThrough(callerHalf, nextHalf, nextToken, token, endpoint, { via, chain }, f.started);
    this.pending.set(callerHalf.id, answer);
    try {
      return await answer;
    } finally {
      this.pending.delete(callerHalf.id);
    }
  }

  private halves(f: Forwarding, token: string, endpoint: string): { callerHalf: RelayInSession; nextHalf: RelayOutSession; nextToken: string } {
    const { core } = this.ctx;
    const lifetimeMs = Math.min(f.request.lifetime ?? core.calls.defaultLifetimeMs, core.calls.maxLifetimeMs);
    const inId = (f.request.sessionId ?? newSessionId()) as SessionId;
    const outId = newSessionId();
    const nextToken = newSessionToken();
    const common = { virtualUserId: f.virtualUserId, caller: f.caller, offer: f.offer, ...lifetime(core.now(), lifetimeMs),
      via: f.request.via ?? [], forwardedBy: f.matrixUserId };
    return {
      callerHalf: relayInSession({
        ...common, id: inId, callee: f.callee, peer: outId, identity: f.identity,
        party: { tokenHash: hashToken(token), delivery: f.request.notify ? { mode: "push", notifyUrl: f.request.notify, token, peerNode: f.signer ?? null } : { mode: "pull" } },
        setup: { fingerprint: setupFingerprint(f.caller, f.callee), response: null },
      }),
      nextHalf: relayOutSession({
        ...common, id: outId, callee: f.next, peer: inId,
        party: { tokenHash: hashToken(nextToken), delivery: { mode: "push", notifyUrl: endpoint, token: nextToken, peerNode: domainOf(f.next) } },
      }),
      nextToken,
    };
  }

  /** The same POST again gets the same answer; anything else with that session id is refused. */
  private async retried(existing: Session, attempt: RelayInSession): Promise<SetupResponse> {
    const same = existing.kind === "relay_in" && existing.party.tokenHash === attempt.party.tokenHash
      && existing.setup.fingerprint === attempt.setup.fingerprint;
    if (!same) return COULD_NOT_ATTEND;
    const inFlight = this.pending.get(existing.id);
    if (inFlight) return inFlight;
    return (existing.setup.response as SetupResponse | null) ?? COULD_NOT_ATTEND;
  }

  private async putThrough(callerHalf: RelayInSession, nextHalf: RelayOutSession, nextToken: string, token: string, endpoint: string,
    path: { via: string[]; chain: Hop[] }, started: number): Promise<SetupResponse> {
    const { core } = this.ctx;
    const request: SetupRequest = {
      calleeId: nextHalf.callee, sessionId: nextHalf.id, token: nextToken, offer: nextHalf.offer,
      lifetime: Math.max(1000, nextHalf.expiresAt - core.now()), notify: core.self.publicUrl, via: path.via, chain: path.chain,
      ...(callerHalf.caller ? { callerId: callerHalf.caller } : {}),
    };
    let response: SetupResponse;
    try {
      response = await core.party.postSetup({
        endpoint, destination: domainOf(nextHalf.callee), request, deadline: Math.min(nextHalf.expiresAt, started + core.forwardBudgetMs),
      });
    } catch (err) {
      log.info("the next node could not be reached", { callId: callerHalf.id, error: (err as Error).message });
      response = COULD_NOT_ATTEND;
    }
    const answer = await this.ctx.withSession(callerHalf.id, () => this.onResponse(callerHalf, nextHalf, nextToken, token, response));
    return answer ?? COULD_NOT_ATTEND;
  }

  private async onResponse(callerHalf: RelayInSession, nextHalf: RelayOutSession, nextToken: string, token: string,
    response: SetupResponse): Promise<SetupResponse> {
    const { store } = this.ctx.core;
    // A renamed session, or the next callee's own call coming back (glare
    // there), cannot be relayed: both are treated as not attending.
    const usable = response.status === "success" && response.sessionId === nextHalf.id && !response.offer;
    if (!usable) {
      await this.endings.endRelay(callerHalf, "not_put_through", { next: response.status === "success" ? "user_hangup" : undefined });
      return COULD_NOT_ATTEND;
    }
    const given = response.token;
    const push = { mode: "push" as const, ...pushTarget(nextHalf)! };
    const placed = SESSION_MOVES.placed;
    const next = await store.transitionSession(nextHalf.id, placed.from, {
      state: placed.to,
      ...(given !== nextToken ? { party: { tokenHash: hashToken(given), delivery: { ...push, token: given } } } : {}),
    });
    const answer: SetupResponse = { status: "success", sessionId: callerHalf.id, token };
    const mine = await store.transitionSession(callerHalf.id, placed.from, { state: placed.to, setupResponse: answer });
    // Ended meanwhile (the caller hung up, or the lifetime passed).
    if (!next || !mine) return COULD_NOT_ATTEND;
    log.info("call forwarded", { callId: callerHalf.id, next: nextHalf.callee });
    return answer;
  }

  /** A session event on one half, passed on to the other. Runs under the half's pair lock. */
  async onEvent(half: RelaySession, event: SessionEvent): Promise<Session> {
    const { core, live } = this.ctx;
    const peer = await core.store.getSession(half.peer);
    if (!peer) return half;
    switch (event.type) {
      case "candidates":
        await core.party.send(peer, { type: "candidates", candidates: event.candidates });
        return half;
      case "negotiate":
        if (half.state === "connected") await core.party.send(peer, { type: "negotiate", description: event.description });
        return half;
      case "answer": {
        // Only the next node answers (FromParty refuses an answer from the caller).
        const move = SESSION_MOVES.answer;
        if (!move.from.includes(half.state)) return half;
        const patch = { state: move.to, answer: event.answer, answeredAt: core.now() };
        const connected = await core.store.transitionSession(half.id, move.from, patch);
        const callerSide = await core.store.transitionSession(peer.id, move.from, patch);
        if (!connected || !callerSide) return connected ?? half;
        live.answered(connected, []);
        live.answered(callerSide, []);
        await core.party.send(callerSide, { type: "answer", answer: event.answer });
        return connected;
      }
      case "hangup":
        await this.endings.endRelay(half, "party_hangup", half.kind === "relay_in" ? { next: event.reason } : { caller: event.reason });
        return { ...half, state: "ended" };
      case "replace":
        // Glare at the next node: its callee's own call goes to the caller directly.
        await this.endings.endRelay(half, "replaced_further_on", { caller: "could_not_attend" });
        return { ...half, state: "ended" };
      default:
        return half;
    }
  }

  /** Arms a half's lifetime. */
  schedule(half: RelaySession): void {
    const { live, core } = this.ctx;
    if (!SESSION_MOVES.expire.from.includes(half.state)) return;
    live.remember(half);
    live.armLifetime(half.id, half.expiresAt - core.now(), () => {
      this.ctx.withSession(half.id, (current) => this.endings.expire(current))
        .catch((err: Error) => log.error("lifetime expiry failed", { callId: half.id, error: err.message }));
    });
  }

  /** After a restart: a relay whose setup was still waiting for the next node
   *  lost that answer, so it ends; live relays carry on with their timers. */
  async resume(half: RelaySession): Promise<void> {
    if (half.state === "preparing") {
      await this.ctx.withSession(half.id, (current) => this.endings.endRelay(current as RelaySession, "restarted",
        { caller: "could_not_attend", next: "user_hangup" }));
      return;
    }
    this.schedule(half);
  }
}
