import { logger } from "../log";
import * as ev from "../matrix/callEvents";
import { UNVERIFIED } from "../model/callerIdentity";
import { Leg, UNANSWERED_LEG_STATES } from "../model/leg";
import { InboundSession, RingMode } from "../model/session";
import { LEG_MOVES, SESSION_MOVES } from "../model/transitions";
import { Candidates } from "./Candidates";
import { RemoteRung, Rung } from "./CallWatch";
import { CallContext, displayNameFor } from "./context";
import { Endings } from "./Endings";
import * as notices from "./notices";
import { RemoteMembers } from "./RemoteMembers";

const log = logger("calls");

/**
 * Ringing an inbound session's legs: all at once, or one after another,
 * each for a step (ringLegs). A leg is readied (virtual user, DM; first
 * contact waits for the callee to join) and then invited. A leg declined
 * or timed out rings the next queued one; when none is left the session
 * ends unanswered. A rota's members on other nodes ring at their steps
 * beside the legs (`remote`, ./RemoteMembers.ts), and a step is over only
 * when its legs and its members' attempts all are. Runs under the
 * session's pair locks.
 */
export class Ringing {
  constructor(private readonly ctx: CallContext, private readonly endings: Endings, private readonly candidates: Candidates,
    readonly remote: RemoteMembers) {}

  /** Rings the `preparing` legs of `session` as `mode` says: all of them, or
   *  in sequence those of the lowest step (stored legs: a step's `preparing`,
   *  the later ones `queued`). `legs` may hold the session's other legs too:
   *  the watcher is told which step ended before this one (a resume). */
  async ringLegs(session: InboundSession, legs: readonly Leg[], mode: RingMode = session.ring): Promise<void> {
    const preparing = legs.filter((l) => l.state === "preparing");
    const step = Math.min(...preparing.map((l) => l.step), ...this.remote.queuedSteps(session.id));
    const first = mode.mode === "all" ? preparing : preparing.filter((l) => l.step === step);
    const remote = this.remote.ring(session, mode.mode === "all" ? null : step, mode);
    for (const leg of first) {
      if (mode.mode === "sequence") this.armStep(session, leg, mode.stepMs);
      await this.ringLeg(session, leg).catch((err: Error) => this.failedToRing(session, leg, err));
    }
    // Told once the invites are out: its notice must not queue ahead of them at the homeserver.
    if (first.length || remote.length) {
      this.ctx.live.watchers.get(session.id)?.stepRinging(session, [...first, ...remote], stepBefore(legs, this.remote.endedBefore(session.id, step), step));
    }
  }

  /** preparing → ringing, or → awaiting_join on first contact. */
  async ringLeg(session: InboundSession, leg: Leg): Promise<void> {
    const { core, live } = this.ctx;
    if (this.ctx.expired(session)) return void (await this.endings.expire(session));
    const identity = session.identity ?? UNVERIFIED;
    await core.matrix.ensureVirtualUser(leg.virtualUserId, displayNameFor(session.caller));
    const ensured = await core.matrix.ensureDm(leg.matrixUserId, leg.virtualUserId, true);
    // A DM the homeserver encrypted cannot carry the call (the callee was told why).
    if (!("room" in ensured)) return this.legFailed(session, leg, "encrypted_dm");
    const { room } = ensured;
    if (leg.roomId !== room.roomId || (!room.matrixUserJoined && leg.state === "preparing")) {
      const move = room.matrixUserJoined ? undefined : LEG_MOVES.need_join;
      const next = await core.store.transitionLeg(leg.callId, ["preparing", "awaiting_join"], {
        roomId: room.roomId, ...(move && leg.state === "preparing" ? { state: move.to } : {}),
      });
      if (!next) return;
      leg = next;
      live.rememberLeg(leg);
    }
    if (!room.matrixUserJoined) {
      const secondsLeft = Math.max(1, Math.round((session.expiresAt - core.now()) / 1000));
      const line = notices.callerLine(session.caller, identity);
      await core.matrix.notice(leg.virtualUserId, room.roomId, notices.firstContactNotice(line, secondsLeft));
      live.lastCallerLine.set(room.roomId, line);
      return;
    }
    // The invite first: the notice saying who is calling must not delay the ring.
    if (!(await this.invite(session, leg))) return;
    await this.noticeWhoIsCalling(leg, notices.callerLine(session.caller, identity));
  }

  /** Says who is calling and how, unless the DM's last such notice said
   *  exactly that (one notice for a caller who rings every day the same way). */
  private async noticeWhoIsCalling(leg: Leg, line: string): Promise<void> {
    const { live, core } = this.ctx;
    if (!leg.roomId || live.lastCallerLine.get(leg.roomId) === line) return;
    try {
      await core.matrix.notice(leg.virtualUserId, leg.roomId, notices.incomingNotice(line));
      live.lastCallerLine.set(leg.roomId, line);
    } catch (err) {
      log.warn("could not send the call's notice", { callId: leg.callId, error: (err as Error).message });
    }
  }

  /** Sends the leg's m.call.invite, unless a process before a restart already
   *  did (the stable txn id covers a resend only while the same homeserver
   *  process remembers it, so a resumed leg is looked up in the room first).
   *  Whether the leg now rings. */
  async invite(session: InboundSession, leg: Leg): Promise<boolean> {
    const { core, live } = this.ctx;
    const remaining = session.expiresAt - core.now();
    if (remaining <= 0 || !leg.roomId) {
      await this.endings.expire(session);
      return false;
    }
    const resumed = live.maybeInvited.delete(leg.callId);
    const sent = resumed && await core.matrix.sentCallEvent(leg.virtualUserId, leg.roomId, ev.CALL_INVITE, leg.callId);
    if (!sent) {
      // The DM shows this call's proof before it rings.
      await core.matrix.nameIn(leg.virtualUserId, leg.roomId, displayNameFor(session.caller, session.identity));
      await core.matrix.sendCallEvent(leg.virtualUserId, leg.roomId, ev.CALL_INVITE,
        ev.inviteContent(leg.callId, leg.bridgePartyId, session.offer, remaining, leg.matrixUserId), `invite.${leg.callId}`);
    }
    const ringing = await core.store.transitionLeg(leg.callId, LEG_MOVES.invite.from, { state: LEG_MOVES.invite.to });
    if (!ringing) return false;
    this.candidates.legRinging(session, ringing);
    return true;
  }

  /** After a restart: the legs of a session in turn that were ringing ring
   *  for what was left of their step (a step that ended meanwhile ends now). */
  resumeSteps(session: InboundSession, legs: readonly Leg[]): void {
    if (session.ring.mode !== "sequence") return;
    for (const leg of legs) {
      if (leg.state === "awaiting_join" || leg.state === "ringing") this.armStep(session, leg, session.ring.stepMs);
    }
  }

  /** A sequence step: the leg rings until its step ends (`stepMs` from now
   *  unless the store says when), then the next step does. */
  private armStep(session: InboundSession, leg: Leg, stepMs: number): void {
    const now = this.ctx.core.now();
    const endsAt = Math.min(leg.stepEndsAt ?? now + stepMs, session.expiresAt);
    this.ctx.live.armStep(leg.callId, endsAt - now, () => {
      void this.ctx.withSession(session.id, async (current, legs) => {
        const now = legs.find((l) => l.callId === leg.callId);
        if (current.kind !== "inbound" || !now) return;
        if (await this.endings.endLeg(now, current, "step_timeout", { reason: "invite_timeout", matrix: { hangup: "invite_timeout" }, notice: "missed" })) {
          await this.next(current);
        }
      }).catch((err: Error) => log.error("ringing step failed", { callId: leg.callId, error: err.message }));
    });
  }

  /** A leg ended unanswered: the next queued one rings; with none left and
   *  none ringing, the session ends unanswered (`reason`: the last leg's). */
  async next(session: InboundSession, reason = "invite_timeout"): Promise<void> {
    const { core, live } = this.ctx;
    const legs = await core.store.legsOf(session.id);
    // A step of several legs (or members on other nodes) goes on while any of them still rings.
    if (legs.some((l) => UNANSWERED_LEG_STATES.includes(l.state) && l.state !== "queued") || this.remote.pending(session.id)) return;
    const queued = legs.filter((l) => l.state === "queued");
    const remoteSteps = this.remote.queuedSteps(session.id);
    if ((queued.length || remoteSteps.length) && !this.ctx.expired(session)) {
      const step = Math.min(...queued.map((l) => l.step), ...remoteSteps);
      // The step's end is stored as it starts: a restart goes on with what is left of it.
      const stepEndsAt = session.ring.mode === "sequence" ? core.now() + session.ring.stepMs : null;
      const ready: Leg[] = [];
      for (const leg of queued.filter((l) => l.step === step)) {
        const moved = await core.store.transitionLeg(leg.callId, LEG_MOVES.ring.from, { state: LEG_MOVES.ring.to, stepEndsAt });
        if (moved) ready.push(moved);
      }
      const remote = this.remote.ring(session, step, session.ring);
      if (!ready.length && !remote.length) return;
      for (const leg of ready) {
        if (session.ring.mode === "sequence") this.armStep(session, leg, session.ring.stepMs);
        await this.ringLeg(session, leg).catch((err: Error) => this.failedToRing(session, leg, err));
      }
      live.watchers.get(session.id)?.stepRinging(session, [...ready, ...remote], stepBefore(legs, this.remote.endedBefore(session.id, step), step));
      return;
    }
    if (!SESSION_MOVES.unanswered.from.includes(session.state)) return;
    await this.endings.end(session, { reason, party: "could_not_attend", event: "unanswered" });
  }

  /** The leg could not ring (its DM is encrypted, the homeserver failed). */
  private async legFailed(session: InboundSession, leg: Leg, reason: string): Promise<void> {
    const ended = await this.ctx.core.store.transitionLeg(leg.callId, LEG_MOVES.step_timeout.from, { state: "ended", endReason: reason });
    this.ctx.live.clearStep(leg.callId);
    if (ended) this.ctx.live.rememberLeg(ended);
    if (ended) await this.next(session, reason);
  }

  private async failedToRing(session: InboundSession, leg: Leg, err: Error): Promise<void> {
    log.warn("could not ring the callee", { callId: leg.callId, error: err.message });
    await this.legFailed(session, leg, "unreachable")
      .catch((e: Error) => log.error("could not end a leg that failed to ring", { callId: leg.callId, error: e.message }));
  }
}

/** The legs and members on other nodes of the last step before `step` (each
 *  ended unanswered, or the next step would not ring): what the watcher says did not answer. */
function stepBefore(legs: readonly Leg[], remote: readonly RemoteRung[], step: number): Rung[] {
  const before: Rung[] = [...legs.filter((l) => l.state === "ended" && l.step < step), ...remote];
  const last = Math.max(...before.map((r) => r.step));
  return before.filter((r) => r.step === last);
}
