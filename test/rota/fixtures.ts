import { Address } from "../../src/ids/address";
import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { Escalation, Override, Rota, RotaMember, RotaName, Rotation } from "../../src/model/rota";
import { anchorFor } from "../../src/rota/schedule";

export const T = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad test time ${iso}`);
  return t;
};
export const iso = (t: number): string => new Date(t).toISOString().replace(":00.000Z", "Z");

export const user = (name: string): RotaMember => ({ kind: "matrix", userId: `@${name}:example.org` as MatrixUserId });
export const remote = (address: string): RotaMember => ({ kind: "address", address: address as Address });
export const [alice, bob, carol, dave, erin, frank, gina] = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"].map(user) as [RotaMember, RotaMember, RotaMember, RotaMember, RotaMember, RotaMember, RotaMember];

export const londonMonday: Rotation = { every: "week", weekday: "mon", time: "09:00", zone: "Europe/London" };
export const sequence30s: Escalation = { mode: "sequence", stepMs: 30_000, thenAll: false };

/** A rota with its rotation anchored at the latest handover at or before `since`. */
export function rota(more: Partial<Rota> & { since?: string } = {}): Rota {
  const { since = "2026-11-02T09:00Z", ...rest } = more;
  const rotation = rest.rotation ?? londonMonday;
  return {
    name: "on-call" as RotaName,
    roomId: "!rota:example.org" as RoomId,
    members: [alice, bob, carol],
    rotation,
    anchor: anchorFor(rotation, T(since)),
    overrides: [],
    escalation: sequence30s,
    rules: { userId: "@on-call:example.org" as MatrixUserId, rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 0 },
    version: 1,
    ...rest,
  };
}

export function cover(id: number, member: RotaMember, from: string, until: string): Override {
  return { id, member, from: T(from), until: T(until) };
}

/** A shift as ISO times, for readable expectations. */
export function readable(shift: { member: RotaMember; from: number; until: number; overrideId?: number } | undefined) {
  if (!shift) return undefined;
  const who = shift.member.kind === "matrix" ? shift.member.userId : shift.member.address;
  return `${iso(shift.from)} – ${iso(shift.until)} ${who}${shift.overrideId === undefined ? "" : ` (cover ${shift.overrideId})`}`;
}
