import { Escalation, Rota, RotaMember, Rotation, Shift } from "../model/rota";
import { Rule, DefaultAction } from "../model/rules";
import { onCallAt, shifts } from "../rota/schedule";
import { memberText } from "../rota/shiftText";

/**
 * A rota as the API answers it. Members are written as people write them
 * (`@alice:example.org`, `carol@hello.com`); times are ms since the epoch.
 */

export interface ShiftView {
  member: string;
  from: number;
  until: number;
  /** Set when a cover, not the rotation, puts them on call. */
  overrideId?: number;
}

export interface RotaView {
  name: string;
  address: string;
  roomId: string;
  /** Send it back with an edit: a rota changed since is refused with 409. */
  version: number;
  /** Whether the session's user may change it. */
  canEdit: boolean;
  /** The rota's own order; null = the room's joined members in join order. */
  members: string[] | null;
  /** The order in force: `members`, or the room's joined members now. */
  rotationOrder: string[];
  rotation: Rotation;
  /** The handover at which the first member's turn began. */
  anchor: number;
  escalation: Escalation;
  overrides: { id: number; member: string; from: number; until: number }[];
  rules: { rules: Rule[]; defaultAction: DefaultAction | null };
  /** Who is on call now; null when nobody is. */
  onCall: ShiftView | null;
  /** The shift in force now and the ones after it. */
  shifts: ShiftView[];
}

export interface RotaSummary {
  name: string;
  address: string;
  roomId: string;
  canEdit: boolean;
}

function shiftView(shift: Shift): ShiftView {
  return { member: memberText(shift.member), from: shift.from, until: shift.until, ...(shift.overrideId === undefined ? {} : { overrideId: shift.overrideId }) };
}

export function rotaView(rota: Rota, r: { address: string; canEdit: boolean; order: readonly RotaMember[]; now: number; shifts: number }): RotaView {
  const onCall = onCallAt(rota, r.order, r.now);
  return {
    name: rota.name,
    address: r.address,
    roomId: rota.roomId,
    version: rota.version,
    canEdit: r.canEdit,
    members: rota.members && rota.members.map(memberText),
    rotationOrder: r.order.map(memberText),
    rotation: rota.rotation,
    anchor: rota.anchor,
    escalation: rota.escalation,
    overrides: rota.overrides.filter((o) => o.until > r.now).map((o) => ({ id: o.id, member: memberText(o.member), from: o.from, until: o.until })),
    rules: { rules: rota.rules.rules, defaultAction: rota.rules.defaultAction },
    onCall: onCall ? shiftView(onCall) : null,
    shifts: shifts(rota, r.order, r.now, r.shifts).map(shiftView),
  };
}
