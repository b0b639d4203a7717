import { logger } from "../log";
import { DomainError } from "../errors/DomainError";
import { Address, parseAddress } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { CallerIdentity } from "../model/callerIdentity";
import { RingMode } from "../model/session";
import { CheckedCaller } from "../signing/CallerCheck";
import { RequestContext } from "../webcall/WebCallNode";
import { SessionDescription, SetupRequest, SetupResponse } from "../protocol/types";
import { CallContext, displayNameFor } from "./context";
import { InboundRing } from "./InboundRing";
import { answerNeutrally, proofAllowance } from "./neutralAnswer";
import * as notices from "./notices";
import { Relay } from "./Relay";
import { RotaCalls } from "./RotaCalls";

const log = logger("inbound");
const COULD_NOT_ATTEND: SetupResponse = { status: "could_not_attend" };

/** Several of our users rung for one address, at once or in turn (an internal API; rotas use RotaCalls). */
export interface RingGroup {
  targets: readonly MatrixUserId[];
  mode: RingMode;
}

/**
 * POST /webcall: a WebCall caller asks to ring one of the homeserver's users.
 * Receiver chooses: the callee's rules decide whether it rings, is refused or
 * is forwarded (to another of our users, whose rules then apply, or to
 * another node through the Relay). An address that names a ring group rings
 * its users' legs instead (InboundRing). A call that rings is answered once
 * it is stored; ringing carries on under its pair locks, so a retry, a
 * hangup or a crash finds the call where it is.
 *
 * Neutral refusal: every could_not_attend is sent `calls.neutralAnswerMs`
 * after the request arrived (plus the time its signatures took to check, in
 * whole steps, the same whoever is called), whichever path routing took to
 * it, because the whole routing runs inside answerNeutrally; and a first-contact callee
 * the homeserver has not confirmed by then is not rung, so refused, unknown
 * and offline callees look alike in body and in timing. Both the deadline
 * and the waits are on `core.clock`.
 */
export class InboundSetup {
  readonly groups = new Map<Address, RingGroup>();

  constructor(private readonly ctx: CallContext, private readonly ringer: InboundRing, private readonly relay: Relay,
    private readonly rotas: RotaCalls) {}

  /** `ctx.receivedAt`: `core.clock.now()` when the request arrived; `ctx.signer`:
   *  the node whose signature on the request checked out, if any. */
  async setup(request: SetupRequest, rc: RequestContext): Promise<SetupResponse> {
    const { core } = this.ctx;
    const { clock } = core;
    const started = core.now();
    const callee = parseAddress(request.calleeId, "calleeId");
    const caller = request.callerId === undefined ? null : parseAddress(request.callerId, "callerId");
    if (!request.offer) {
      throw new DomainError("WEBCALL_NEED_SESSION", "I can't find a room: bring an offer and try again");
    }
    const checkStarted = clock.now();
    const checked = await core.callers.identify({ caller, callee, signer: rc.signer, chain: request.chain });
    // The floor starts once the caller's proofs are checked: fetching a node's
    // keys takes however long it takes, the same whoever is called, and must
    // not eat into the time the homeserver has to confirm the callee. Only in
    // whole steps, so event-loop delay never moves the deadline (proofAllowance).
    const proofMs = (rc.signatureCheckMs ?? 0) + clock.now() - checkStarted;
    const neutralAt = rc.receivedAt + proofAllowance(proofMs) + core.calls.neutralAnswerMs;
    const arrival: Arrival = { request, offer: request.offer, caller, callee, signer: rc.signer, checked, started, neutralAt };
    return answerNeutrally(clock, neutralAt, () => this.route(arrival));
  }

  /** Follows the callee's rules, and local forwards, to a ring, a refusal or a relay. */
  private async route(a: Arrival): Promise<SetupResponse> {
    const { core } = this.ctx;
    const { request, offer, caller, callee, signer, checked, started, neutralAt } = a;
    const via = request.via ?? [];
    // WebCall/1 §4: a node seen twice, or too long a chain, ends the attempt.
    if (new Set(via).size !== via.length || via.length > core.maxForwardHops) return COULD_NOT_ATTEND;
    const identity: CallerIdentity = {
      ...checked.identity, forwards: [...checked.identity.forwards],
      ...(request.callerName !== undefined ? { nameHint: request.callerName } : {}),
    };
    const proof = { identity, peerNode: signer ?? null };
    const group = this.groups.get(callee);
    if (group) return this.ringer.ring({ request, offer, caller, callee, targets: group.targets, mode: group.mode, neutralAt, proof });
    const facts = { caller, verified: identity.verified, at: started };
    let start = callee;
    const rota = await this.rotas.find(callee);
    if (rota) {
      // A rota's rules decide as a user's do; a forward goes on as one of theirs.
      const routed = await this.rotas.route(rota, { request, offer, caller, callee, neutralAt, proof, chain: checked.chain }, facts);
      if ("status" in routed) return routed;
      const reason = `${rota.name} ${hopReason(routed.rule, routed.label)}`;
      if (!core.localUsers.userIdFor(routed.forwardTo)) {
        // To another node: relayed as a user's forward is, the bridge bot standing for the forwarding user.
        return this.relay.forward({ request, offer, caller, callee, matrixUserId: core.rotas!.bot, virtualUserId: core.virtualUsers.userIdFor(caller),
          next: routed.forwardTo, started, identity, signer, chain: checked.chain, reason });
      }
      identity.forwards.push({ by: core.self.domain, reason });
      start = routed.forwardTo;
    }
    const seen = new Set<MatrixUserId>();
    for (let target = start; ;) {
      const userId = core.localUsers.userIdFor(target);
      if (!userId) return COULD_NOT_ATTEND;
      if (seen.has(userId) || seen.size > core.maxForwardHops) return COULD_NOT_ATTEND;
      seen.add(userId);
      const decision = await core.rules.decide(userId, facts);
      if (decision.action === "ring") {
        return this.ringer.ring({ request, offer, caller, callee: target, targets: [userId], mode: { mode: "all" }, neutralAt, proof });
      }
      const virtualUserId = core.virtualUsers.userIdFor(caller);
      const who = displayNameFor(caller);
      const by = notices.byWhat(decision.rule, decision.label);
      if (decision.action === "refuse") {
        void this.noticeIfWanted(userId, virtualUserId, caller, notices.refusedNotice(who, by));
        return COULD_NOT_ATTEND;
      }
      const next = decision.forwardTo!;
      void this.ringer.noticeInPairDm(userId, virtualUserId, caller, notices.forwardedNotice(who, next, by));
      const reason = hopReason(decision.rule, decision.label);
      if (core.localUsers.userIdFor(next)) {
        identity.forwards.push({ by: core.self.domain, reason });
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
      if ((await this.ctx.core.rules.get(userId)).notifyRefused) await this.ringer.noticeInPairDm(userId, virtualUserId, caller, text);
    } catch (err) {
      log.warn("could not leave a notice for a refused call", { userId, error: (err as Error).message });
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

/** How a forwarding hop names the callee's choice to the next node. */
function hopReason(rule: number | null, label: string | undefined): string {
  if (label) return `${label} rule`;
  return rule === null ? "default" : `rule ${rule}`;
}
