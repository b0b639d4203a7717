import { Address } from "../ids/address";
import { Brand } from "../ids/brand";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { Hop } from "../protocol/types";
import { UserRules, Weekday } from "./rules";

/**
 * On-call rotas (issue 13). A Matrix room is the rota for one address on this
 * node, `NAME@homeserver.domain`: its members take turns being on call, a
 * handover at a local time in an IANA zone, overrides beat the rotation, and
 * an escalation policy says who rings after whom. The words here are shared
 * by the schedule (src/rota/schedule.ts), the store, the bot's commands and
 * the call core.
 */

/** A rota's name: the local part of its address (`on-call`), lower case,
 *  1-64 of a-z 0-9 . _ - ; never a local user's localpart. */
export type RotaName = Brand<string, "RotaName">;

const ROTA_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function tryParseRotaName(text: string): RotaName | undefined {
  const name = text.toLowerCase();
  return ROTA_NAME.test(name) ? (name as RotaName) : undefined;
}

/** Someone who can be on call: a user of this homeserver, or a WebCall
 *  address on another node (rung by relay, as forwarding does). */
export type RotaMember =
  | { kind: "matrix"; userId: MatrixUserId }
  | { kind: "address"; address: Address };

/** When the person on call changes: every week on `weekday`, or every day,
 *  at `time` ("HH:MM") local time in `zone` (an IANA name). */
export type Rotation =
  | { every: "week"; weekday: Weekday; time: string; zone: string }
  | { every: "day"; time: string; zone: string };

/** `rota cover`: `member` is on call from `from` until `until` (ms since the
 *  epoch, from < until), whatever the rotation says. Numbered per rota, a
 *  new one above every current one: where overrides overlap, the greatest
 *  id (the latest made) wins (src/rota/schedule.ts). */
export interface Override {
  id: number;
  member: RotaMember;
  from: number;
  until: number;
}

/**
 * Who rings, in steps:
 *   sequence  the person on call for stepMs, then the next in rotation order
 *             for stepMs, and so on through every member; with thenAll, after
 *             the first step everyone left rings at once instead.
 *   all       every member at once from the start.
 */
export type Escalation =
  | { mode: "sequence"; stepMs: number; thenAll: boolean }
  | { mode: "all" };

export interface Rota {
  name: RotaName;
  /** The room that is the rota: its moderators edit it, it is told of calls. */
  roomId: RoomId;
  /** The rotation order; null = the room's joined members in join order. */
  members: RotaMember[] | null;
  rotation: Rotation;
  /** The handover (ms since the epoch) at which the first member's turn
   *  began; set to the latest handover at or before the moment the rotation
   *  was set, so that the first member is on call from then. */
  anchor: number;
  overrides: Override[];
  escalation: Escalation;
  /** The same rule language users have, applied to callers of the rota address. */
  rules: UserRules;
  /** Compare-and-set version, as for users' rules (0 = never saved). */
  version: number;
}

/** One stretch of time with one person on call. */
export interface Shift {
  member: RotaMember;
  from: number;
  until: number;
  /** Set when an override, not the rotation, puts them on call. */
  overrideId?: number;
}

/** The order in which a call to the rota rings: each step is a set of
 *  members rung at once, for stepMs (the last step for the call's lifetime). */
export interface RingPlan {
  steps: RotaMember[][];
  stepMs: number | null;
}

export function sameMember(a: RotaMember, b: RotaMember): boolean {
  return a.kind === "matrix" ? b.kind === "matrix" && a.userId === b.userId : b.kind === "address" && a.address === b.address;
}

/** A call to a rota, as the rota room's notices need it: kept with the
 *  session (src/calls/RotaWatch.ts), so they go on after a restart. */
export interface RotaCall {
  name: RotaName;
  roomId: RoomId;
  /** The caller as the notices show them ("alf@customer.com ✓"). */
  caller: string;
  /** Who was on call when the call came in: a Matrix user, or a member on another node. */
  onCall: MatrixUserId | Address | null;
  /** The members on other nodes and the step at which each rings, with the
   *  chain that proved the caller (extended toward each member): so after a
   *  restart the members whose step has not come yet still ring. */
  remote?: RemoteMember[];
  chain?: Hop[];
}

/** A rota member on another node, at its step of one call's ring plan. */
export interface RemoteMember {
  address: Address;
  step: number;
}
