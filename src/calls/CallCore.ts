import { logger } from "../log";
import { tryParseMatrixUserId } from "../ids/matrix";
import { MatrixEvent } from "../matrix/events/types";
import { SessionEvent, SetupRequest, SetupResponse } from "../protocol/types";
import { RequestContext, WebCallNode } from "../webcall/WebCallNode";
import { CallActions } from "./CallActions";
import { CallDeps } from "./CallDeps";
import { FromMatrix } from "./FromMatrix";
import { FromParty } from "./FromParty";
import { InboundSetup } from "./InboundSetup";
import { OutboundPlacement } from "./OutboundPlacement";
import { Relay } from "./Relay";

const log = logger("call-core");

/**
 * The call core: one session state machine between the WebCall side
 * (WebCallNode, called by the HTTP listener) and the Matrix side (events the
 * homeserver pushes). State lives in the store; this object only holds
 * timers, candidate batches and per-call ordering.
 */
export class CallCore implements WebCallNode {
  private readonly actions: CallActions;
  private readonly inbound: InboundSetup;
  private readonly fromMatrix: FromMatrix;
  private readonly fromParty: FromParty;
  private readonly placement: OutboundPlacement;
  private readonly relay: Relay;

  constructor(private readonly deps: CallDeps) {
    this.actions = new CallActions(deps);
    this.relay = new Relay(deps, this.actions);
    this.inbound = new InboundSetup(deps, this.actions, this.relay);
    this.placement = new OutboundPlacement(deps, this.actions);
    this.fromMatrix = new FromMatrix(deps, this.actions, this.placement);
    this.fromParty = new FromParty(deps, this.actions, this.placement, this.relay);
  }

  /** After a restart: re-arm lifetimes, ring and place what was still being
   *  prepared, end what expired while the bridge was down. */
  async resume(): Promise<void> {
    const live = await this.deps.store.liveCalls();
    for (const call of live) {
      if (call.direction === "relay_in" || call.direction === "relay_out") {
        if (this.actions.expired(call)) await this.actions.withCall(call, (current) => this.actions.expire(current));
        else await this.relay.resume(call);
        continue;
      }
      this.actions.remember(call);
      if (call.direction === "outbound") this.actions.trackOwnCall(call);
      if (call.direction === "inbound" && (call.state === "preparing" || call.state === "awaiting_join")) this.actions.mayHaveInvited(call);
      if (this.actions.expired(call)) {
        await this.actions.withCall(call, (current) => this.actions.expire(current));
      } else {
        this.actions.schedule(call);
        if (call.direction === "inbound" && call.state === "preparing") {
          void this.actions.withCall(call, (current) => current.state === "preparing" ? this.actions.ring(current) : Promise.resolve())
            .catch((err: Error) => log.warn("could not resume ringing", { callId: call.callId, error: err.message }));
        }
        // Its setup may never have reached the callee's node; the same session and token make a repeat harmless.
        if (call.direction === "outbound" && call.state === "preparing") void this.placement.place(call);
      }
    }
    if (live.length) log.info("resumed live calls", { count: live.length });
  }

  setup(request: SetupRequest, ctx: RequestContext): Promise<SetupResponse> {
    return this.inbound.setup(request, ctx);
  }

  deliver(sessionId: string, token: string, events: SessionEvent[], _ctx: RequestContext): Promise<void> {
    return this.fromParty.deliver(sessionId, token, events);
  }

  async eventsSince(sessionId: string, token: string, since: number): Promise<{ events: SessionEvent[]; next: number; over: boolean }> {
    let call = await this.fromParty.authorise(sessionId, token);
    let queued = await this.deps.store.partyEventsSince(call.callId, since);
    let over = call.state === "ended" || call.state === "replaced";
    if (over) {
      // An ending changes the state first and queues its hangup after, under
      // the call's mutex: wait for that turn before saying nothing is left.
      await this.actions.withCall(call, async () => undefined);
      call = (await this.deps.store.getCall(call.callId)) ?? call;
      queued = await this.deps.store.partyEventsSince(call.callId, since);
      over = call.state === "ended" || call.state === "replaced";
    }
    return {
      events: queued.map((q) => q.event as unknown as SessionEvent),
      next: queued.length ? queued[queued.length - 1]!.seq : since,
      over,
    };
  }

  subscribe(sessionId: string, wake: () => void): () => void {
    return this.deps.party.subscribe(sessionId, wake);
  }

  /** The homeserver asks about a user in our namespace: register it if it stands for an address. */
  async provisionVirtualUser(userId: string): Promise<boolean> {
    const id = tryParseMatrixUserId(userId);
    const address = id && this.deps.virtualUsers.addressOf(id);
    if (!id || !address) return false;
    await this.deps.registry.ensure(id, address);
    return true;
  }

  isRelevant(event: MatrixEvent): boolean {
    return this.fromMatrix.isRelevant(event);
  }

  /** A typed event, checked at the Matrix edge (src/matrix/events/). */
  onMatrixEvent(event: MatrixEvent, receivedAt: number): Promise<void> {
    return this.fromMatrix.onEvent(event, receivedAt);
  }

  /** Waits for queued per-call work, then stops timers. */
  async stop(): Promise<void> {
    await this.actions.close();
  }
}
