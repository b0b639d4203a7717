/**
 * Deciding who to ring for a call to a rota (target: under 1 ms median):
 * 100 rotas of 50 members, 20 overrides each, weekly and daily rotations in
 * eight IANA zones. Each timed call picks the next rota and computes its
 * ring plan at the current moment (`ringPlan`: the handovers since the
 * rota's anchor counted in local dates, the override in force, the order
 * through every member), as the call core does on every call to a rota.
 * About a third of the rotas have an override covering the moment, so both
 * paths (rotation, override first) are measured. `onCallAt` and
 * `shifts(…, 10)` (what `rota who` and `rota shifts` compute) for contrast.
 */
import { Address } from "../src/ids/address";
import { MatrixUserId, RoomId } from "../src/ids/matrix";
import { Escalation, Override, Rota, RotaMember, RotaName, Rotation } from "../src/model/rota";
import { WEEKDAYS } from "../src/model/rules";
import { anchorFor, onCallAt, ringPlan, shifts } from "../src/rota/schedule";
import { Stats, timeSync } from "./stats";

export const ROTAS = 100, MEMBERS = 50, OVERRIDES = 20;
const ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "UTC"];
const DAY = 86_400_000;
const ESCALATIONS: Escalation[] = [
  { mode: "sequence", stepMs: 30_000, thenAll: false },
  { mode: "sequence", stepMs: 20_000, thenAll: true },
  { mode: "all" },
];

/** `count` rotas as users would make them, around `now`. Members are local
 *  users, every tenth an address on another node. */
export function manyRotas(now: number, count = ROTAS): { rota: Rota; members: RotaMember[] }[] {
  return Array.from({ length: count }, (_, r) => {
    const members: RotaMember[] = Array.from({ length: MEMBERS }, (_, i) => i % 10 === 9
      ? { kind: "address", address: `oncall${r}-${i}@partner${r % 7}.example` as Address }
      : { kind: "matrix", userId: `@member${r}-${i}:example.org` as MatrixUserId });
    const zone = ZONES[r % ZONES.length]!;
    const time = `${String(6 + (r % 6)).padStart(2, "0")}:${r % 2 ? "30" : "00"}`;
    const rotation: Rotation = r % 3 === 2 ? { every: "day", time, zone } : { every: "week", weekday: WEEKDAYS[r % 7]!, time, zone };
    // Anchored months to years back, so the count of handovers is large.
    const anchor = anchorFor(rotation, now - (30 + r * 11) * DAY);
    // Two-day covers every four days from 40 days back (over, ending, to come);
    // every third rota also has one over the moment, created last.
    const overrides: Override[] = Array.from({ length: OVERRIDES }, (_, i) => {
      const from = now - 40 * DAY + i * 4 * DAY + (r % 5) * 3_600_000 + DAY / 2;
      return { id: i + 1, member: members[(i * 7 + r) % MEMBERS]!, from, until: from + 2 * DAY };
    });
    if (r % 3 === 0) overrides[OVERRIDES - 1] = { ...overrides[OVERRIDES - 1]!, from: now - DAY, until: now + DAY };
    const rota: Rota = {
      name: `team-${r}` as RotaName, roomId: `!rota${r}:example.org` as RoomId, members, rotation, anchor, overrides,
      escalation: ESCALATIONS[r % ESCALATIONS.length]!,
      rules: { userId: `@team-${r}:example.org` as MatrixUserId, rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 1 },
      version: 1,
    };
    return { rota, members };
  });
}

export interface RotaReport { rotas: number; covered: number; ringPlan: Stats; onCall: Stats; shifts: Stats }

export function measureRota(iterations = 20_000): RotaReport {
  const rotas = manyRotas(Date.now());
  const covered = rotas.filter(({ rota, members }) => onCallAt(rota, members, Date.now())?.overrideId !== undefined).length;
  // Check the plans are whole before timing them: everyone once, the person on call first.
  for (const { rota, members } of rotas) {
    const plan = ringPlan(rota, members, Date.now());
    const rung = plan.steps.flat().length;
    const onCall = onCallAt(rota, members, Date.now())!;
    if (rung < MEMBERS || rung > MEMBERS + 1 || JSON.stringify(plan.steps[0]![0]) !== JSON.stringify(onCall.member)) {
      throw new Error(`${rota.name}: a ring plan of ${rung} members, first ${JSON.stringify(plan.steps[0])}`);
    }
  }
  let n = 0;
  const next = () => rotas[n++ % rotas.length]!;
  const ringPlanStats = timeSync(2_000, iterations, () => { const { rota, members } = next(); return ringPlan(rota, members, Date.now()); });
  const onCall = timeSync(2_000, iterations, () => { const { rota, members } = next(); return onCallAt(rota, members, Date.now()); });
  const shiftStats = timeSync(500, iterations / 4, () => { const { rota, members } = next(); return shifts(rota, members, Date.now(), 10); });
  return { rotas: rotas.length, covered, ringPlan: ringPlanStats, onCall, shifts: shiftStats };
}

const us = (v: number): string => `${(v * 1000).toFixed(1)} µs`;

export function rotaReportLines(r: RotaReport): string[] {
  const line = (label: string, s: Stats, note = "") =>
    `  ${label.padEnd(40)} median ${us(s.median).padStart(9)}   p99 ${us(s.p99).padStart(9)}${note ? `   ${note}` : ""}`;
  return [
    `deciding who to ring for a call to a rota: ${r.rotas} rotas of ${MEMBERS} members and ${OVERRIDES} overrides each`,
    `  (weekly and daily, ${ZONES.length} zones; ${r.covered} with an override in force now), the rotas taken in turn`,
    line("ringPlan (who rings, in which steps)", r.ringPlan, "(target < 1 ms)"),
    line("onCallAt (rota who)", r.onCall),
    line("shifts, next 10 (rota shifts)", r.shifts),
  ];
}
