import { logger } from "../log";
import { domainOf } from "../ids/address";
import { SessionId, newPartyId, newSessionToken } from "../ids/session";
import { Leg, LegId, newLeg } from "../model/leg";
import { OutboundSession, PartyLink, inboundSession } from "../model/session";
import { SESSION_MOVES } from "../model/transitions";
import { SessionDescription, SetupRequest, SetupResponse } from "../protocol/types";
import { extendChain, PLACED } from "../signing/chain";
import { CallContext, hashToken, setupFingerprint } from "./context";
import { Endings } from "./Endings";
import { InboundRing } from "./InboundRing";
import { Ringing } from "./Ringing";

const log = logger("outbound");

/**
 * A Matrix user calls a WebCall address: find the callee's node and POST the
 * call to it. The POST runs outside the pair's lock, because the other node
 * may be calling us at the same moment and must be able to get through
 * (glare). Retries reuse the same sessionId and token, so the callee never
 * rings twice.
 */
export class OutboundPlacement {
  constructor(private readonly ctx: CallContext, private readonly endings: Endings, private readonly ringing: Ringing,
    private readonly inbound: InboundRing) {}

  async place(session: OutboundSession): Promise<void> {
    try {
      await this.tryPlace(session);
    } catch (err) {
      log.warn("could not place the call", { callId: session.id, error: (err as Error).message });
      await this.ctx.withSession(session.id, (current) => this.notPutThrough(current as OutboundSession, "unreachable"));
    }
  }

  private async tryPlace(session: OutboundSession): Promise<void> {
    const attached = session.party?.delivery.mode === "push" ? session : await this.attachNode(session);
    const push = attached?.party?.delivery.mode === "push" ? attached.party.delivery : undefined;
    if (!attached || !push) return;
    const { core } = this.ctx;
    const request: SetupRequest = {
      callerId: session.caller, calleeId: session.callee, sessionId: session.id, token: push.token,
      offer: session.offer, lifetime: Math.max(1000, session.expiresAt - core.now()), notify: core.self.publicUrl, via: [core.self.domain],
      // The chain starts here: this node vouches for its own user, so a node
      // that forwards the call can prove who is calling to the next one.
      chain: extendChain(core.keys, [], { from: session.caller, to: session.callee, reason: PLACED, ts: Date.now() }),
    };
    const response = await core.party.postSetup({ endpoint: push.notifyUrl, destination: domainOf(session.callee), request, deadline: session.expiresAt });
    await this.ctx.withSession(session.id, (current, legs) => this.onResponse(current as OutboundSession, legs, response, push.notifyUrl));
  }

  /** Finds the callee's node and attaches it to the call (unless the call
   *  ended meanwhile, e.g. lost glare while still being prepared). */
  private async attachNode(session: OutboundSession): Promise<OutboundSession | undefined> {
    const { core, live } = this.ctx;
    const endpoint = await core.party.endpointFor(domainOf(session.callee));
    if (!endpoint) {
      await this.ctx.withSession(session.id, (current) => this.notPutThrough(current as OutboundSession, "no_node"));
      return undefined;
    }
    const token = newSessionToken();
    const party: PartyLink = { tokenHash: hashToken(token), delivery: { mode: "push", notifyUrl: endpoint, token, peerNode: domainOf(session.callee) } };
    // The node is attached before the POST: its first events may overtake its answer.
    return this.ctx.withSession(session.id, async (current, legs) => {
      if (current.kind !== "outbound" || current.state !== "preparing" || current.party !== null) return undefined;
      const attached = await core.store.transitionSession(session.id, ["preparing"], { party }) as OutboundSession | undefined;
      if (attached && legs[0]) live.trackOwnCall(attached, legs[0]);
      return attached;
    });
  }

  private async onResponse(session: OutboundSession, legs: Leg[], response: SetupResponse, endpoint: string): Promise<void> {
    if (session.state !== "preparing" && session.state !== "ringing") return; // ended (or answered) meanwhile
    if (response.status === "could_not_attend") return this.notPutThrough(session, "could_not_attend");
    if (response.sessionId !== session.id) {
      if (!response.offer) return this.notPutThrough(session, "renamed_session");
      return this.adoptRemoteCall(session, legs, response.sessionId as SessionId, response.token, response.offer, endpoint);
    }
    const push = session.party?.delivery.mode === "push" ? session.party.delivery : undefined;
    const given = response.token;
    const placed = SESSION_MOVES.placed;
    const next = await this.ctx.core.store.transitionSession(session.id, placed.from, {
      state: placed.to,
      // "use this key instead"
      ...(push && given !== push.token ? { party: { tokenHash: hashToken(given), delivery: { ...push, token: given } } } : {}),
    }) as OutboundSession | undefined;
    if (next && legs[0]) this.ctx.live.trackOwnCall(next, legs[0]);
  }

  /**
   * Glare decided at the callee's node: its own call to our user survived and
   * came back in the setup answer. Our user's call ends, and theirs rings
   * here as an inbound call (unless its own POST already made it one).
   */
  async adoptRemoteCall(own: OutboundSession, legs: readonly Leg[], sessionId: SessionId, token: string, offer: SessionDescription,
    endpoint: string): Promise<void> {
    const { core, live } = this.ctx;
    const ownLeg = legs[0];
    await this.endings.end(own, { reason: "glare", matrix: { reject: true }, replacedBy: sessionId });
    if (!ownLeg) return;
    const now = core.now();
    const peerNode = domainOf(own.callee);
    const theirs = inboundSession({
      id: sessionId, virtualUserId: own.virtualUserId, caller: own.callee, callee: own.caller, offer,
      lifetimeMs: own.expiresAt - now, createdAt: now, expiresAt: own.expiresAt, via: [], ring: { mode: "all" },
      // The answer came from the node discovery names for the callee's domain.
      identity: { verified: true, verifiedBy: peerNode, forwards: [] },
      party: { tokenHash: hashToken(token), delivery: { mode: "push", notifyUrl: endpoint, token, peerNode } },
      setup: { fingerprint: setupFingerprint(own.callee, own.caller), response: { status: "success", sessionId, token } },
    });
    const leg = newLeg({
      callId: sessionId as string as LegId, sessionId, position: 0, state: "preparing", matrixUserId: ownLeg.matrixUserId,
      virtualUserId: own.virtualUserId, roomId: ownLeg.roomId, bridgePartyId: newPartyId(), matrixPartyId: null, matrixVersion: "1",
    });
    const inserted = await core.store.insertSession(theirs, [leg]);
    if (!inserted.inserted) return;
    live.remember(theirs, [leg]);
    live.noteUnansweredInbound(theirs.id, [leg]);
    this.inbound.armLifetime(theirs);
    log.info("glare: the callee's own call survives", { lost: own.id, kept: sessionId });
    await this.ringing.ringLeg(theirs, leg);
  }

  private async notPutThrough(session: OutboundSession, reason: string): Promise<void> {
    await this.endings.end(session, { reason, matrix: { reject: true }, notice: "not_put_through" });
  }
}
