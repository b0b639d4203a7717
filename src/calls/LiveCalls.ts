import { SessionId } from "../ids/session";
import { Leg, LegId, pairKey } from "../model/leg";
import { OutboundSession, Session, isRelay } from "../model/session";
import { IceCandidate } from "../protocol/types";
import { LruCache } from "../util/LruCache";
import { CallWatcher } from "./CallWatch";

/**
 * Everything the call core keeps in memory beside the store, in one place:
 * the latest record of each live session and leg (for the candidate
 * batchers), timers, candidates held until a leg rings or an answer is
 * chosen, and the per-pair facts the glare checks read on the warm path.
 * None of it is needed for correctness after a restart: CallCore.resume
 * rebuilds what matters from the store.
 */
export class LiveCalls {
  private readonly sessions = new Map<SessionId, Session>();
  private readonly legs = new Map<LegId, Leg>();
  /** Each session's legs' ids, in order: lock keys and candidate fan-out. */
  private readonly legIds = new Map<SessionId, LegId[]>();
  private readonly lifetimes = new Map<SessionId, NodeJS.Timeout>();
  private readonly steps = new Map<LegId, NodeJS.Timeout>();
  /** The party's candidates, kept while a leg may still ring later. */
  readonly heldPartyCandidates = new Map<SessionId, IceCandidate[]>();
  /** Candidates from each ringing device of a leg, until an answer is selected. */
  readonly deviceCandidates = new Map<LegId, Map<string, IceCandidate[]>>();
  /** The Matrix user's own live call to a WebCall party, by pair (glare). */
  private readonly ownCalls = new Map<string, { session: OutboundSession; leg: Leg }>();
  /** Pairs with an inbound session not yet answered (glare reads the store only then). */
  private readonly unansweredInbound = new Map<string, Set<SessionId>>();
  /** Legs a previous process may have sent the invite for (resume). */
  readonly maybeInvited = new Set<LegId>();
  /** The last "who is calling" line each DM was told. */
  readonly lastCallerLine = new LruCache<string, string>(10_000);
  /** Sessions someone watches as they ring (a rota's notices; rebuilt from
   *  the store on resume). */
  readonly watchers = new Map<SessionId, CallWatcher>();

  remember(session: Session, legs?: readonly Leg[]): void {
    this.sessions.set(session.id, session);
    if (legs) {
      for (const leg of legs) this.legs.set(leg.callId, leg);
      if (!this.legIds.has(session.id)) this.legIds.set(session.id, legs.map((l) => l.callId));
    }
  }

  /** Whether the Matrix user has a live leg of a call the bridge knows
   *  (ringing, connected, their own call placed): a rota skips them. */
  busy(userId: string): boolean {
    for (const leg of this.legs.values()) if (leg.matrixUserId === userId && leg.state !== "ended") return true;
    return false;
  }

  rememberLeg(leg: Leg): void {
    this.legs.set(leg.callId, leg);
  }

  session(id: string): Session | undefined {
    return this.sessions.get(id as SessionId);
  }

  leg(id: string): Leg | undefined {
    return this.legs.get(id as LegId);
  }

  /** The cached legs of a session, in order (those still remembered). */
  legsOf(id: SessionId): Leg[] {
    return (this.legIds.get(id) ?? []).map((l) => this.legs.get(l)).filter((l): l is Leg => l !== undefined);
  }

  /** The pair mutex keys a session's work runs under: one per leg's pair
   *  (a relayed session's: the forwarding user's). */
  static lockKeys(session: Session, legs: readonly Leg[]): string[] {
    if (isRelay(session)) return [pairKey(session.forwardedBy, session.virtualUserId)];
    // A rota member's attempt on another node has no legs: its own id serialises its work.
    if (session.kind === "member_out") return [session.id];
    const keys = new Set(legs.map((l) => pairKey(l.matrixUserId, l.virtualUserId)));
    return [...keys];
  }

  knownLockKeys(id: SessionId): string[] | undefined {
    const session = this.sessions.get(id);
    const legs = this.legsOf(id);
    return session && (isRelay(session) || legs.length) ? LiveCalls.lockKeys(session, legs) : undefined;
  }

  armLifetime(id: SessionId, ms: number, fire: () => void): void {
    if (this.lifetimes.has(id)) return;
    const timer = setTimeout(() => {
      this.lifetimes.delete(id);
      fire();
    }, Math.max(0, ms));
    timer.unref();
    this.lifetimes.set(id, timer);
  }

  hasLifetime(id: SessionId): boolean {
    return this.lifetimes.has(id);
  }

  armStep(id: LegId, ms: number, fire: () => void): void {
    this.clearStep(id);
    const timer = setTimeout(() => {
      this.steps.delete(id);
      fire();
    }, Math.max(0, ms));
    timer.unref();
    this.steps.set(id, timer);
  }

  clearStep(id: LegId): void {
    clearTimeout(this.steps.get(id));
    this.steps.delete(id);
  }

  /** Told when a session is answered (a rota's members on other nodes stop ringing). */
  readonly onAnswer: ((session: Session) => void)[] = [];

  /** Answered: no lifetime, no steps, nothing held but the device candidates. */
  answered(session: Session, legs: readonly Leg[]): void {
    clearTimeout(this.lifetimes.get(session.id));
    this.lifetimes.delete(session.id);
    for (const leg of legs) this.clearStep(leg.callId);
    this.heldPartyCandidates.delete(session.id);
    this.clearUnansweredInbound(session.id, legs);
    this.remember(session);
    for (const leg of legs) this.legs.set(leg.callId, leg);
    for (const hook of this.onAnswer) hook(session);
  }

  noteUnansweredInbound(id: SessionId, legs: readonly Leg[]): void {
    for (const leg of legs) {
      const pair = pairKey(leg.matrixUserId, leg.virtualUserId);
      const ids = this.unansweredInbound.get(pair) ?? new Set<SessionId>();
      ids.add(id);
      this.unansweredInbound.set(pair, ids);
    }
  }

  mayHaveUnansweredInbound(pair: string): boolean {
    return this.unansweredInbound.has(pair);
  }

  private clearUnansweredInbound(id: SessionId, legs: readonly Leg[]): void {
    for (const leg of legs) {
      const pair = pairKey(leg.matrixUserId, leg.virtualUserId);
      const ids = this.unansweredInbound.get(pair);
      ids?.delete(id);
      if (ids && !ids.size) this.unansweredInbound.delete(pair);
    }
  }

  trackOwnCall(session: OutboundSession, leg: Leg): void {
    this.ownCalls.set(pairKey(leg.matrixUserId, leg.virtualUserId), { session, leg });
  }

  /** The Matrix user's own call in this pair, not yet answered. */
  pendingOwnCall(pair: string): { session: OutboundSession; leg: Leg } | undefined {
    const own = this.ownCalls.get(pair);
    return own && (own.session.state === "preparing" || own.session.state === "ringing") ? own : undefined;
  }

  /** Told when a session is forgotten (the candidate batches drop theirs). */
  readonly onForget: ((id: SessionId, legs: readonly Leg[]) => void)[] = [];

  /** The session is over: drop everything kept for it. */
  forget(id: SessionId, ended: readonly Leg[]): void {
    // Every leg of the session, also those that ended before it (answered elsewhere, declined).
    const legs = [...ended, ...this.legsOf(id).filter((l) => !ended.some((e) => e.callId === l.callId))];
    for (const hook of this.onForget) hook(id, legs);
    for (const leg of legs) {
      const pair = pairKey(leg.matrixUserId, leg.virtualUserId);
      if (this.ownCalls.get(pair)?.session.id === id) this.ownCalls.delete(pair);
      this.clearStep(leg.callId);
      this.deviceCandidates.delete(leg.callId);
      this.maybeInvited.delete(leg.callId);
      this.legs.delete(leg.callId);
    }
    this.clearUnansweredInbound(id, legs);
    clearTimeout(this.lifetimes.get(id));
    this.lifetimes.delete(id);
    this.heldPartyCandidates.delete(id);
    this.sessions.delete(id);
    this.legIds.delete(id);
    this.watchers.delete(id);
  }

  close(): void {
    for (const timer of this.lifetimes.values()) clearTimeout(timer);
    for (const timer of this.steps.values()) clearTimeout(timer);
    this.lifetimes.clear();
    this.steps.clear();
  }
}
