import { logger } from "../log";
import { Address, domainOf, localPartOf } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { Leg } from "../model/leg";
import { CallFacts } from "../model/rules";
import { Rota, RotaCall, tryParseRotaName } from "../model/rota";
import { InboundSession, RingMode } from "../model/session";
import { SetupResponse } from "../protocol/types";
import * as text from "../rota/callNotices";
import { onCallAt, ringPlan } from "../rota/schedule";
import { compileRules, decide } from "../rules/evaluate";
import { CallContext } from "./context";
import { InboundRing, RingRequest } from "./InboundRing";
import { RemoteMember } from "./MemberPlacement";
import { RotaWatch } from "./RotaWatch";

const log = logger("rota-calls");
const COULD_NOT_ATTEND: SetupResponse = { status: "could_not_attend" };

/** What ringing a rota takes from the setup: everything but whom and how. */
export type RotaRing = Omit<RingRequest, "targets" | "mode" | "steps" | "watch" | "rota" | "remote">;

/**
 * Calls to a rota's address (NAME@homeserver.domain, docs/rotas.md "Calls
 * to a rota"): the rota's own rules decide, as a user's do; a call that
 * rings follows the ring plan (the person on call first, then the next, or
 * everyone), one leg per Matrix member in their DM with the caller's virtual
 * user, exactly as a direct call, and a member on another node rung by
 * relay (./RemoteMembers.ts). Members busy on a bridged call are skipped. Runs inside the setup's neutral answer: a refusal is only
 * returned, never answered early.
 */
export class RotaCalls {
  constructor(private readonly ctx: CallContext, private readonly ringer: InboundRing) {}

  /** The rota at `callee`, when it names one of this node's. */
  async find(callee: Address): Promise<Rota | undefined> {
    const { rotas, self } = this.ctx.core;
    if (!rotas || domainOf(callee) !== self.domain) return undefined;
    const name = tryParseRotaName(localPartOf(callee));
    return name ? rotas.find(name) : undefined;
  }

  /** Rings the rota as its rules and plan say; `forwardTo` when its rules forward. */
  async route(rota: Rota, ring: RotaRing, facts: CallFacts): Promise<SetupResponse | { forwardTo: Address; rule: number | null; label?: string }> {
    const { core, live } = this.ctx;
    const side = core.rotas!;
    const decision = decide(compileRules(rota.rules), facts, side.bridgeDefault);
    if (decision.action === "refuse") return COULD_NOT_ATTEND;
    if (decision.action === "forward") return { forwardTo: decision.forwardTo!, rule: decision.rule, label: decision.label };
    const members = await side.members(rota);
    const now = core.now();
    const plan = ringPlan(rota, members, now);
    const onCall = onCallAt(rota, members, now)?.member;
    const targets: MatrixUserId[] = [];
    const steps: number[] = [];
    const remote: RemoteMember[] = [];
    let skipped = 0;
    plan.steps.forEach((step, i) => {
      for (const member of step) {
        if (member.kind === "address") {
          remote.push({ address: member.address, step: i });
        } else if (live.busy(member.userId)) {
          log.info("rota member busy on a bridged call: skipped", { rota: rota.name, member: member.userId });
          skipped++;
        } else {
          targets.push(member.userId);
          steps.push(i);
        }
      }
    });
    const call: RotaCall = {
      name: rota.name, roomId: rota.roomId, caller: text.callerText(facts.caller, facts.verified),
      onCall: onCall ? (onCall.kind === "matrix" ? onCall.userId : onCall.address) : null,
      // Kept with the session: a restart still rings the members whose step has not come.
      ...(remote.length ? { remote, chain: [...(ring.chain ?? [])] } : {}),
    };
    const watch = new RotaWatch(side, call, plan.stepMs);
    if (targets.length === 0 && remote.length === 0) {
      watch.nobodyToRing(skipped);
      return COULD_NOT_ATTEND;
    }
    const mode: RingMode = plan.stepMs === null ? { mode: "all" } : { mode: "sequence", stepMs: plan.stepMs };
    return this.ringer.ring({ ...ring, targets, steps, mode, watch, rota: call, remote });
  }

  /** After a restart: a stored rota call's room notices go on (`remote`: its members on other nodes rung so far). */
  resume(session: InboundSession, legs: readonly Leg[], remote: readonly Address[]): void {
    const side = this.ctx.core.rotas;
    if (side && session.rota) this.ctx.live.watchers.set(session.id, RotaWatch.resumed(side, { ...session, rota: session.rota }, legs, remote));
  }
}
