import { logger } from "../log";
import { Address } from "../ids/address";
import { SessionId, newSessionId } from "../ids/session";
import { UNANSWERED_LEG_STATES } from "../model/leg";
import { InboundSession, MemberOutSession, RingMode, Session, isLive } from "../model/session";
import { LEG_MOVES, SESSION_MOVES } from "../model/transitions";
import { HangupReason, Hop, SessionDescription, SessionEvent } from "../protocol/types";
import { RemoteRung } from "./CallWatch";
import { CallContext } from "./context";
import { Endings } from "./Endings";
import { Attempt, Plan, RemoteMember, placeAttempt, sendCandidates } from "./MemberPlacement";

const log = logger("rota-remote");

/**
 * Rota members on other nodes (docs/rotas.md, "Members on other nodes"):
 * at its step, a member is rung by relay, as forwarding does, except that
 * the caller keeps the rota call's inbound session through every step. Each
 * attempt is a `member_out` session (this node's setup to the member's node,
 * `via` and `chain` extended) linked to that session as its parent. The
 * first answer anywhere connects: a member's answer wins the parent's
 * conditional answer, ends its legs as answered elsewhere and passes the
 * answer and the node's candidates to the caller; a Matrix answer (or
 * another member's) hangs the attempt up as `answered_elsewhere`. A refusal,
 * hangup or the step's timeout ends the attempt and the next step rings
 * (Ringing.next, told through `stepOver`). The caller's candidates,
 * renegotiation and hangup pass to the node. The plan (who rings at which
 * step) is stored with the session (`rota.remote`): a restart rebuilds it
 * (`restore`), adopts the attempts already out (`adopt`) and rings the
 * members whose step has not come when it does.
 */
export class RemoteMembers {
  private readonly plans = new Map<SessionId, Plan>();

  constructor(private readonly ctx: CallContext, private readonly endings: Endings,
    private readonly stepOver: (parent: InboundSession, reason: string) => Promise<void>) {
    ctx.live.onAnswer.push((session) => {
      if (this.plans.has(session.id)) this.answeredElsewhere(session.id);
    });
    ctx.live.onForget.push((id) => {
      if (this.plans.has(id)) void this.parentEnded(id).catch((err: Error) => log.warn("could not end a member's attempt", { callId: id, error: err.message }));
    });
  }

  /** A rota call rings these members at their steps; `chain`: what proved its caller. */
  plan(parent: InboundSession, members: readonly RemoteMember[], chain: readonly Hop[]): void {
    this.plans.set(parent.id, { attempts: members.map((m) => ({ ...m, state: "queued", endReason: null, held: [] })), chain, callerCandidates: [] });
  }

  /**
   * After a restart, before the attempts are adopted: the rota call's plan
   * again, from its stored members (`rota.remote`) and its attempts in the
   * store. A member with an ended attempt has had its step; one with a live
   * attempt is adopted (`adopt`); the rest are queued, to ring when their
   * step comes (Ringing.next). Returns the members rung so far (the notices).
   */
  async restore(parent: InboundSession): Promise<Address[]> {
    const members = parent.rota?.remote ?? [];
    if (!members.length || this.plans.has(parent.id)) return [];
    const attempts = await this.ctx.core.store.memberAttempts(parent.id);
    const plan: Plan = { attempts: [], chain: parent.rota?.chain ?? [], callerCandidates: [] };
    for (const m of members) {
      // The latest attempt at the member (a member is rung once a call).
      const last = attempts.filter((x) => x.callee === m.address).pop();
      const ended = last !== undefined && !isLive(last);
      plan.attempts.push({ ...m, state: ended ? "ended" : "queued", endReason: ended ? last.endReason : null, held: [], ...(ended ? { id: last.id } : {}) });
    }
    this.plans.set(parent.id, plan);
    return attempts.map((x) => x.callee);
  }

  /**
   * After a restart: a live attempt joins its rota call's plan again (as
   * its member, restored), its step started afresh (as a ringing leg's
   * is). One whose setup answer was lost with the process is hung up at
   * its node, and the call moves on.
   */
  async adopt(attempt: MemberOutSession): Promise<void> {
    const parent = await this.ctx.core.store.getSession(attempt.parent);
    const live = parent?.kind === "inbound" && isLive(parent);
    const plan = this.plans.get(attempt.parent) ?? { attempts: [], chain: [], callerCandidates: [] };
    if (live) this.plans.set(attempt.parent, plan);
    let a = plan.attempts.find((x) => x.address === attempt.callee && x.state === "queued");
    if (!a) plan.attempts.push(a = { address: attempt.callee, step: 0, state: "queued", endReason: null, held: [] });
    a.id = attempt.id;
    if (!live || attempt.state === "preparing") {
      a.state = "ended";
      a.endReason = "restarted";
      await this.ctx.withSession(attempt.id, (current) => this.endings.end(current, { reason: "restarted", party: "user_hangup" }));
      if (parent) await this.over(parent.id, undefined, "restarted");
      return;
    }
    a.state = "ringing";
    a.placed = attempt;
    if (attempt.state === "connected") plan.answeredBy = attempt.id;
    else if (parent.ring.mode === "sequence") this.armStep(parent, a, parent.ring.stepMs);
  }

  /** The steps of members not yet rung. */
  queuedSteps(parentId: SessionId): number[] {
    return (this.plans.get(parentId)?.attempts ?? []).filter((a) => a.state === "queued").map((a) => a.step);
  }

  /** Whether a member's attempt still rings (its step is not over). */
  pending(parentId: SessionId): boolean {
    return (this.plans.get(parentId)?.attempts ?? []).some((a) => a.state === "ringing");
  }

  /** The members of steps before `step` that ended unanswered (the escalation notice). */
  endedBefore(parentId: SessionId, step: number): RemoteRung[] {
    return (this.plans.get(parentId)?.attempts ?? []).filter((a) => a.state === "ended" && a.step < step)
      .map((a) => ({ address: a.address, endReason: a.endReason, step: a.step }));
  }

  /** Rings the queued members of `step` (null: all of them); the setups go
   *  out in the background. Runs under the parent's locks. */
  ring(parent: InboundSession, step: number | null, mode: RingMode): RemoteRung[] {
    const plan = this.plans.get(parent.id);
    if (!plan) return [];
    const due = plan.attempts.filter((a) => a.state === "queued" && (step === null || a.step === step));
    for (const a of due) {
      a.state = "ringing";
      a.id = newSessionId();
      if (mode.mode === "sequence") this.armStep(parent, a, mode.stepMs);
      void placeAttempt(this.ctx, this.endings, parent, plan, a).catch((err: Error) => {
        log.warn("could not ring a rota member on another node", { callId: parent.id, member: a.address, error: err.message });
        return "unreachable";
      }).then((failed) => (failed ? this.over(parent.id, a, failed) : undefined));
    }
    return due.map((a) => ({ address: a.address, endReason: null, step: a.step }));
  }

  /** A session event from a member's node. Runs under the attempt's lock (its own id). */
  async onEvent(attempt: MemberOutSession, event: SessionEvent): Promise<Session> {
    const { core } = this.ctx;
    const plan = this.plans.get(attempt.parent);
    const a = plan?.attempts.find((x) => x.id === attempt.id);
    switch (event.type) {
      case "answer":
        return this.answered(attempt, plan, a, event.answer);
      case "candidates": {
        if (attempt.state !== "connected") {
          a?.held.push(...event.candidates);
          return attempt;
        }
        const parent = await core.store.getSession(attempt.parent);
        if (parent) await sendCandidates(this.ctx, parent, event.candidates);
        return attempt;
      }
      case "negotiate": {
        const parent = attempt.state === "connected" ? await core.store.getSession(attempt.parent) : undefined;
        if (parent?.state === "connected") await core.party.send(parent, { type: "negotiate", description: event.description });
        return attempt;
      }
      case "hangup":
      case "replace": {
        // A member who answered hangs up the call; one still ringing declined or could not attend.
        const connected = attempt.state === "connected";
        const reason = event.type === "hangup" && event.reason === "user_hangup" ? "declined" : "could_not_attend";
        await this.endings.end(attempt, { reason: connected ? "party_hangup" : reason });
        if (connected) {
          const why: HangupReason = event.type === "hangup" ? event.reason : "user_hangup";
          await this.ctx.withSession(attempt.parent, (parent) => this.endings.end(parent, { reason: "hangup", party: why }));
        } else {
          await this.over(attempt.parent, a, reason);
        }
        return { ...attempt, state: "ended" };
      }
    }
  }

  /** The member answered: first answer wins on the rota call. */
  private async answered(attempt: MemberOutSession, plan: Plan | undefined, a: Attempt | undefined, answer: SessionDescription): Promise<Session> {
    const { core, live } = this.ctx;
    if (!SESSION_MOVES.answer.from.includes(attempt.state)) return attempt;
    let result: Session = attempt;
    await this.ctx.withSession(attempt.parent, async (parent, legs) => {
      const patch = { state: SESSION_MOVES.answer.to, answer, answeredAt: core.now() };
      const connected = parent.kind === "inbound" ? await core.store.transitionSession(parent.id, SESSION_MOVES.answer.from, patch) : undefined;
      if (!connected) {
        // Another member answered first, or the call is over.
        if (a) a.state = "ended";
        await this.endings.end(attempt, { reason: "answered_elsewhere", party: "answered_elsewhere" });
        result = { ...attempt, state: "ended" };
        return;
      }
      if (plan) plan.answeredBy = attempt.id;
      clearTimeout(a?.timer);
      result = (await core.store.transitionSession(attempt.id, SESSION_MOVES.answer.from, patch)) ?? attempt;
      if (a && !a.placed) a.placed = result as MemberOutSession;
      const others = [];
      for (const leg of legs) {
        if (!UNANSWERED_LEG_STATES.includes(leg.state)) continue;
        const ended = await core.store.transitionLeg(leg.callId, LEG_MOVES.answered_elsewhere.from,
          { state: LEG_MOVES.answered_elsewhere.to, endReason: "answered_elsewhere" });
        if (ended) others.push({ leg: ended, was: leg.state });
      }
      live.answered(connected, others.map((o) => o.leg));
      live.watchers.get(parent.id)?.answered(connected, { address: attempt.callee, endReason: null, step: a?.step ?? 0 });
      live.watchers.delete(parent.id);
      await core.party.send(connected, { type: "answer", answer });
      await sendCandidates(this.ctx, connected, a?.held.splice(0) ?? []);
      for (const o of others) await this.endings.endedElsewhere(o.leg, o.was, connected);
      log.info("answered by a rota member on another node", { callId: parent.id, member: attempt.callee });
    });
    return result;
  }

  /** The caller's candidates and renegotiation, toward the members' nodes. */
  async fromCaller(parent: Session, event: SessionEvent): Promise<void> {
    const plan = this.plans.get(parent.id);
    if (!plan) return;
    if (event.type === "candidates") {
      if (!plan.answeredBy) plan.callerCandidates.push(...event.candidates);
      for (const a of plan.attempts) {
        if (a.placed && (plan.answeredBy ? a.id === plan.answeredBy : a.state === "ringing")) await sendCandidates(this.ctx, a.placed, event.candidates);
      }
    } else if (event.type === "negotiate" && plan.answeredBy) {
      const a = plan.attempts.find((x) => x.id === plan.answeredBy);
      if (a?.placed) await this.ctx.core.party.send(a.placed, { type: "negotiate", description: event.description });
    }
  }

  /** A sequence step: the member rings for `stepMs`, then the next step does. */
  private armStep(parent: InboundSession, a: Attempt, stepMs: number): void {
    a.timer = setTimeout(() => {
      void this.stepTimedOut(parent.id, a).catch((err: Error) => log.error("a member's step failed", { callId: parent.id, error: err.message }));
    }, Math.max(0, Math.min(stepMs, parent.expiresAt - this.ctx.core.now())));
    a.timer.unref();
  }

  private async stepTimedOut(parentId: SessionId, a: Attempt): Promise<void> {
    if (a.state !== "ringing") return;
    a.endReason = "invite_timeout";
    // The member's answer may have taken the attempt's lock first: then it stays.
    const answered = a.id !== undefined && await this.ctx.withSession(a.id, async (attempt) => {
      if (attempt.state === "connected") return true;
      await this.endings.end(attempt, { reason: "invite_timeout", party: "invite_timeout" });
      return false;
    });
    if (answered) return;
    await this.over(parentId, a, "invite_timeout");
  }

  /** The attempt ended unanswered: the rota call's next step rings once this one is over. */
  private async over(parentId: SessionId, a: Attempt | undefined, reason: string): Promise<void> {
    if (a) {
      clearTimeout(a.timer);
      if (a.state !== "ringing") return;
      a.state = "ended";
      a.endReason = reason;
    }
    await this.ctx.withSession(parentId, async (parent) => {
      if (parent.kind === "inbound" && parent.state === "ringing") await this.stepOver(parent, reason);
    });
  }

  /** Someone else answered: every other member stops ringing. */
  private answeredElsewhere(parentId: SessionId): void {
    const plan = this.plans.get(parentId)!;
    for (const a of plan.attempts) {
      if (a.id === plan.answeredBy || a.state === "ended") continue;
      const was = a.state;
      clearTimeout(a.timer);
      a.state = "ended";
      a.endReason = "answered_elsewhere";
      if (was === "ringing" && a.id) {
        void this.ctx.withSession(a.id, (attempt) => this.endings.end(attempt, { reason: "answered_elsewhere", party: "answered_elsewhere" }))
          .catch((err: Error) => log.warn("could not stop a member's attempt", { callId: a.id, error: err.message }));
      }
    }
  }

  /** The rota call ended (the caller hung up, its lifetime passed, nobody
   *  answered, the connected call is over): every live attempt ends, its node told. */
  private async parentEnded(parentId: SessionId): Promise<void> {
    const plan = this.plans.get(parentId)!;
    this.plans.delete(parentId);
    const parent = await this.ctx.core.store.getSession(parentId);
    const reason = parent?.endReason ?? "session_ended";
    for (const a of plan.attempts) {
      clearTimeout(a.timer);
      const was = a.state;
      a.state = "ended";
      a.endReason ??= reason;
      if (was === "queued" || !a.id) continue;
      await this.ctx.withSession(a.id, (attempt) => this.endings.end(attempt,
        { reason, party: reason === "invite_timeout" ? "invite_timeout" : "user_hangup" }));
    }
  }

  /** Stops every step timer (the core stops). */
  close(): void {
    for (const plan of this.plans.values()) for (const a of plan.attempts) clearTimeout(a.timer);
  }
}
