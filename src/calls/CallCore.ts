import { logger } from "../log";
import { tryParseMatrixUserId } from "../ids/matrix";
import { SessionId } from "../ids/session";
import { MatrixEvent } from "../matrix/events/types";
import { Leg } from "../model/leg";
import { InboundSession, RingMode, isLive, isRelay } from "../model/session";
import { SessionEvent, SetupRequest, SetupResponse } from "../protocol/types";
import { RequestContext, WebCallNode } from "../webcall/WebCallNode";
import { Address } from "../ids/address";
import { CallDeps, Core } from "./CallDeps";
import { Candidates } from "./Candidates";
import { matrixConnector, partyConnector } from "./connectors";
import { CallContext } from "./context";
import { Endings } from "./Endings";
import { FromMatrix } from "./FromMatrix";
import { FromParty } from "./FromParty";
import { InboundRing } from "./InboundRing";
import { InboundSetup, RingGroup } from "./InboundSetup";
import { OutboundPlacement } from "./OutboundPlacement";
import { OwnCalls } from "./OwnCalls";
import { Relay } from "./Relay";
import { RemoteMembers } from "./RemoteMembers";
import { Ringing } from "./Ringing";
import { RotaCalls } from "./RotaCalls";

const log = logger("call-core");

/**
 * The call core: sessions and their legs (src/model/, docs/call-states.md)
 * between the WebCall side (WebCallNode, called by the HTTP listener) and
 * the Matrix side (events the homeserver pushes). It talks to each side
 * through one small interface (./ports.ts). State lives in the store; what
 * is kept in memory is in LiveCalls.
 */
export class CallCore implements WebCallNode {
  private readonly ctx: CallContext;
  private readonly endings: Endings;
  private readonly ringing: Ringing;
  private readonly ring: InboundRing;
  private readonly inbound: InboundSetup;
  private readonly fromMatrix: FromMatrix;
  private readonly fromParty: FromParty;
  private readonly placement: OutboundPlacement;
  private readonly relay: Relay;
  private readonly rotaCalls: RotaCalls;
  private readonly remote: RemoteMembers;

  /** As src/bridge.ts builds it: the sides are wrapped from the bridge's pieces. */
  constructor(deps: CallDeps | Core) {
    const core: Core = "homeserver" in deps ? {
      ...deps,
      matrix: matrixConnector(deps),
      party: partyConnector({ party: deps.party, discovery: deps.discovery, outbound: deps.outbound, keys: deps.keys, loopback: deps.loopback, now: deps.now }),
    } : deps;
    if ("loopback" in deps) deps.loopback.attach(this);
    this.ctx = new CallContext(core);
    this.endings = new Endings(this.ctx);
    const candidates = new Candidates(this.ctx);
    const remote = new RemoteMembers(this.ctx, this.endings, (parent, reason) => this.ringing.next(parent, reason));
    this.remote = remote;
    this.ringing = new Ringing(this.ctx, this.endings, candidates, remote);
    this.ring = new InboundRing(this.ctx, this.ringing, this.endings);
    this.relay = new Relay(this.ctx, this.endings);
    this.rotaCalls = new RotaCalls(this.ctx, this.ring);
    this.inbound = new InboundSetup(this.ctx, this.ring, this.relay, this.rotaCalls);
    this.placement = new OutboundPlacement(this.ctx, this.endings, this.ringing, this.ring);
    this.fromMatrix = new FromMatrix(this.ctx, this.endings, this.ringing, candidates, new OwnCalls(this.ctx, this.endings, this.placement),
      this.rotaCalls);
    this.fromParty = new FromParty(this.ctx, this.endings, candidates, this.placement, this.relay, remote);
    this.closers = [() => candidates.close(), () => remote.close()];
  }

  private readonly closers: (() => void)[];

  /** Internal API (rotas, issue 13): a setup to `address` rings every target,
   *  at once or in turn with a step timeout, instead of following rules. */
  ringGroupAt(address: Address, group: RingGroup): void {
    this.inbound.groups.set(address, group);
  }

  /** Rings the given legs of a stored inbound session (see Ringing.ringLegs). */
  ringLegs(session: InboundSession, legs: readonly Leg[], mode: RingMode): Promise<void> {
    return this.ringing.ringLegs(session, legs, mode);
  }

  /** After a restart: re-arm lifetimes and steps, ring and place what was
   *  still being prepared, end what expired while the bridge was down. */
  async resume(): Promise<void> {
    const { store } = this.ctx.core;
    const live = await store.liveSessions();
    // Rota calls' plans first: an attempt adopted below joins its member's place in them.
    const rungRemote = new Map<SessionId, Address[]>();
    for (const session of live) if (session.kind === "inbound" && session.rota?.remote) rungRemote.set(session.id, await this.remote.restore(session));
    for (const session of live) {
      if (isRelay(session)) {
        if (this.ctx.expired(session)) await this.ctx.withSession(session.id, (current) => this.endings.expire(current));
        else await this.relay.resume(session);
        continue;
      }
      if (session.kind === "member_out" && !this.ctx.expired(session)) await this.remote.adopt(session);
      const legs = await store.legsOf(session.id);
      this.ctx.live.remember(session, legs);
      if (session.kind === "outbound" && legs[0]) this.ctx.live.trackOwnCall(session, legs[0]);
      if (session.kind === "inbound") {
        for (const leg of legs) if (leg.state === "preparing" || leg.state === "awaiting_join") this.ctx.live.maybeInvited.add(leg.callId);
        if (session.state !== "connected") {
          this.ctx.live.noteUnansweredInbound(session.id, legs);
          // Before the lifetime is checked: a rota call that expired while the bridge was down is reported missed.
          this.rotaCalls.resume(session, legs, rungRemote.get(session.id) ?? []);
        }
      }
      if (this.ctx.expired(session)) {
        await this.ctx.withSession(session.id, (current) => this.endings.expire(current));
        continue;
      }
      if (session.state !== "connected") this.armLifetime(session.id, session.expiresAt);
      if (session.kind === "inbound" && session.state === "ringing") this.resumeRinging(session, legs);
      // Its setup may never have reached the callee's node; the same session and token make a repeat harmless.
      if (session.kind === "outbound" && session.state === "preparing") void this.placement.place(session);
    }
    if (live.length) log.info("resumed live calls", { count: live.length });
  }

  /** A ringing session's steps go on with the time they had left; legs not
   *  yet rung ring; a step that had ended (the bridge stopped before the
   *  next one rang) hands over to the next. */
  private resumeRinging(session: InboundSession, legs: readonly Leg[]): void {
    this.ringing.resumeSteps(session, legs);
    const waiting = legs.some((l) => l.state === "preparing");
    const between = !waiting && !legs.some((l) => l.state === "awaiting_join" || l.state === "ringing");
    if (!waiting && !between) return;
    void this.ctx.withSession(session.id, (current, now) => {
      if (current.kind !== "inbound" || !isLive(current)) return Promise.resolve();
      return waiting ? this.ringing.ringLegs(current, now, current.ring) : this.ringing.next(current);
    }).catch((err: Error) => log.warn("could not resume ringing", { callId: session.id, error: err.message }));
  }

  private armLifetime(id: SessionId, expiresAt: number): void {
    this.ctx.live.armLifetime(id, expiresAt - this.ctx.core.now(), () => {
      this.ctx.withSession(id, (current) => this.endings.expire(current))
        .catch((err: Error) => log.error("lifetime expiry failed", { callId: id, error: err.message }));
    });
  }

  setup(request: SetupRequest, rc: RequestContext): Promise<SetupResponse> {
    return this.inbound.setup(request, rc);
  }

  deliver(sessionId: string, token: string, events: SessionEvent[], _rc: RequestContext): Promise<void> {
    return this.fromParty.deliver(sessionId, token, events);
  }

  async eventsSince(sessionId: string, token: string, since: number): Promise<{ events: SessionEvent[]; next: number; over: boolean }> {
    const { store } = this.ctx.core;
    let session = await this.fromParty.authorise(sessionId, token);
    let queued = await store.partyEventsSince(session.id, since);
    let over = !isLive(session);
    if (over) {
      // An ending changes the state first and queues its hangup after, under
      // the session's locks: wait for that turn before saying nothing is left.
      await this.ctx.withSession(session.id, async () => undefined);
      session = (await store.getSession(session.id)) ?? session;
      queued = await store.partyEventsSince(session.id, since);
      over = !isLive(session);
    }
    return {
      events: queued.map((q) => q.event as unknown as SessionEvent),
      next: queued.length ? queued[queued.length - 1]!.seq : since,
      over,
    };
  }

  subscribe(sessionId: string, wake: () => void): () => void {
    return this.ctx.core.party.subscribe(sessionId, wake);
  }

  /** The homeserver asks about a user in our namespace: register it if it stands for an address. */
  async provisionVirtualUser(userId: string): Promise<boolean> {
    const id = tryParseMatrixUserId(userId);
    const address = id && this.ctx.core.virtualUsers.addressOf(id);
    if (!id || !address) return false;
    await this.ctx.core.matrix.ensureVirtualUser(id, address);
    return true;
  }

  isRelevant(event: MatrixEvent): boolean {
    return this.fromMatrix.isRelevant(event);
  }

  onMatrixEvent(event: MatrixEvent, receivedAt: number): Promise<void> {
    return this.fromMatrix.onEvent(event, receivedAt);
  }

  /** Waits for queued per-call work, then stops timers. */
  async stop(): Promise<void> {
    await this.ctx.locks.idle();
    this.ctx.live.close();
    this.endings.close();
    for (const close of this.closers) close();
  }
}
