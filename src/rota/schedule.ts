import { Override, RingPlan, Rota, RotaMember, Rotation, Shift } from "../model/rota";
import { LocalDate, dayNumber, handoverAfter, latestHandover, periodDays } from "./handovers";

/**
 * Who is on call when, and who rings after whom: pure functions of a rota,
 * its rotation order and a moment (docs/rotas.md). No store, no homeserver:
 * the caller passes the members (rota.members, or the room's joined members
 * in join order when that is null).
 *
 * The timeline is the rotation's shifts (one per handover, members in turn
 * from rota.anchor), painted over by the overrides in the order they were
 * created (a greater id is later and wins where two overlap). A shift is a
 * maximal stretch with one source: a rotation shift cut where an override
 * begins or ends, or the part of an override no later override covers.
 */

export { parseHandoverTime } from "./handovers";

/** The latest handover at or before `at` (ms since the epoch). */
export function anchorFor(rotation: Rotation, at: number): number {
  return latestHandover(rotation, at).at;
}

/** How many handovers fall after `anchor` and at or before `at`, counted by
 *  local dates (negative when `at` is before `anchor`). */
export function handoversBetween(rotation: Rotation, anchor: number, at: number): number {
  const from = latestHandover(rotation, anchor).date;
  const to = latestHandover(rotation, at).date;
  return (dayNumber(to) - dayNumber(from)) / periodDays(rotation);
}

/** The first handover after `at`. */
export function nextHandover(rotation: Rotation, at: number): number {
  return handoverAfter(rotation, latestHandover(rotation, at).date, 1).at;
}

/** What one computation over a rota needs more than once. */
interface Schedule {
  rota: Rota;
  members: readonly RotaMember[];
  /** The local date of the handover at rota.anchor: member 0's first turn. */
  anchorDay: number;
}

function scheduleOf(rota: Rota, members: readonly RotaMember[]): Schedule {
  return { rota, members, anchorDay: dayNumber(latestHandover(rota.rotation, rota.anchor).date) };
}

/** The index in the rotation order of the turn that began on `date`. */
function turnIndex(s: Schedule, date: LocalDate): number {
  const n = s.members.length;
  const k = (dayNumber(date) - s.anchorDay) / periodDays(s.rota.rotation);
  return ((k % n) + n) % n;
}

/** The override in force at `at`: of those covering it, the latest created. */
function overrideAt(overrides: readonly Override[], at: number): Override | undefined {
  let winner: Override | undefined;
  for (const o of overrides) {
    if (o.from <= at && at < o.until && (!winner || o.id > winner.id)) winner = o;
  }
  return winner;
}

/** The stretch around `at` within [from, until) that none of `others`
 *  covers, given that none of them covers `at` itself. */
function clip(others: Iterable<Override>, at: number, from: number, until: number): { from: number; until: number } {
  for (const p of others) {
    if (p.until <= at && p.until > from) from = p.until;
    else if (p.from > at && p.from < until) until = p.from;
  }
  return { from, until };
}

/** The shift containing `at`, or the stretch with nobody on call (no
 *  members, no override) as a Shift without a member. */
function pieceAt(s: Schedule, at: number): Shift | { member: undefined; from: number; until: number } {
  const { overrides, rotation } = s.rota;
  const override = overrideAt(overrides, at);
  if (override) {
    const later = overrides.filter((p) => p.id > override.id);
    return { member: override.member, ...clip(later, at, override.from, override.until), overrideId: override.id };
  }
  if (s.members.length === 0) {
    // Nobody until the next override begins (or ever).
    const next = Math.min(...overrides.filter((p) => p.from > at).map((p) => p.from));
    return { member: undefined, from: at, until: next };
  }
  const turn = latestHandover(rotation, at);
  const end = handoverAfter(rotation, turn.date, 1).at;
  return { member: s.members[turnIndex(s, turn.date)]!, ...clip(overrides, at, turn.at, end) };
}

/**
 * Who is on call at `at`, from when until when: an override covering `at`
 * beats the rotation. Undefined when nobody is: no override covers `at` and
 * the rotation has no members.
 */
export function onCallAt(rota: Rota, members: readonly RotaMember[], at: number): Shift | undefined {
  const piece = pieceAt(scheduleOf(rota, members), at);
  return piece.member ? piece : undefined;
}

/** The next `count` shifts: the one in force at `from` (which may have begun
 *  before it), then each that follows, overrides spliced in. Stretches with
 *  nobody on call are left out. */
export function shifts(rota: Rota, members: readonly RotaMember[], from: number, count: number): Shift[] {
  const s = scheduleOf(rota, members);
  const out: Shift[] = [];
  let at = from;
  while (out.length < count && Number.isFinite(at)) {
    const piece = pieceAt(s, at);
    if (piece.member) out.push(piece);
    at = piece.until;
  }
  return out;
}

/** A member's identity as a string, for telling members apart. */
export function memberKey(m: RotaMember): string {
  return m.kind === "matrix" ? `matrix:${m.userId}` : `address:${m.address}`;
}

/**
 * The order a call to the rota at `at` rings in: whoever is on call (an
 * override's member first), then the rotation from its own on-call member
 * on, each member once. Sequence: one member a step; with thenAll, the first
 * step and then everyone left at once; all: everyone in one step. No steps
 * when nobody is on call.
 */
export function ringPlan(rota: Rota, members: readonly RotaMember[], at: number): RingPlan {
  const s = scheduleOf(rota, members);
  const order: RotaMember[] = [];
  const seen = new Set<string>();
  const add = (m: RotaMember) => {
    const key = memberKey(m);
    if (!seen.has(key)) { seen.add(key); order.push(m); }
  };
  const override = overrideAt(rota.overrides, at);
  if (override) add(override.member);
  const n = members.length;
  if (n > 0) {
    const first = turnIndex(s, latestHandover(rota.rotation, at).date);
    for (let i = 0; i < n; i++) add(members[(first + i) % n]!);
  }
  const escalation = rota.escalation;
  if (escalation.mode === "all") return { steps: order.length ? [order] : [], stepMs: null };
  const steps = escalation.thenAll
    ? [order.slice(0, 1), order.slice(1)].filter((step) => step.length > 0)
    : order.map((m) => [m]);
  return { steps, stepMs: escalation.stepMs };
}
