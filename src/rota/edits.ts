import { MatrixUserId, RoomId } from "../ids/matrix";
import { applyEdit } from "../rules/edit";
import { RuleError, UserRules } from "../model/rules";
import { Escalation, Override, Rota, RotaName, Rotation, sameMember } from "../model/rota";
import { RotaEdit } from "./commands";

/**
 * Applying one `rota …` edit to a rota. Pure: RotaService saves the result
 * conditional on the version it was read at, so a refused edit changes
 * nothing and two moderators' edits cannot lose one another.
 */

export interface RotaEditContext {
  /** ms since the epoch */
  now: number;
  /** The latest handover of `rotation` at or before `at` (src/rota/schedule.ts). */
  anchorFor(rotation: Rotation, at: number): number;
  /** Most rules a rota may have (config rules.maxRulesPerUser, as for a user). */
  maxRules: number;
}

export interface NewRotaContext extends RotaEditContext {
  /** The zone of a new rota's handovers (config rules.defaultTimeZone). */
  zone: string;
  /** This homeserver's domain: the rota's address is name@domain. */
  domain: string;
}

/** What `rota create` starts with, documented in the README and `rota help`. */
export const DEFAULT_HANDOVER = "09:00";
export const DEFAULT_ESCALATION: Escalation = { mode: "sequence", stepMs: 30_000, thenAll: true };
/** Covers a rota keeps at once (ended ones are dropped on the next edit). */
export const MAX_OVERRIDES = 100;
/** How far ahead a cover may end. */
export const MAX_COVER_AHEAD_MS = 366 * 24 * 3600_000;

export function newRota(name: RotaName, roomId: RoomId, ctx: NewRotaContext): Rota {
  const rotation: Rotation = { every: "day", time: DEFAULT_HANDOVER, zone: ctx.zone };
  const rules: UserRules = {
    userId: `@${name}:${ctx.domain}` as MatrixUserId, rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 0,
  };
  return {
    name, roomId, members: null, rotation, anchor: ctx.anchorFor(rotation, ctx.now), overrides: [],
    escalation: DEFAULT_ESCALATION, rules, version: 0,
  };
}

function cover(overrides: readonly Override[], edit: Extract<RotaEdit, { kind: "cover" }>, now: number): Override[] {
  if (edit.until <= edit.from) throw new RuleError("A cover must end after it starts.", "until");
  if (edit.until <= now) throw new RuleError("That cover would already be over: give an end in the future.", "until");
  if (edit.until - now > MAX_COVER_AHEAD_MS) throw new RuleError("A cover may end at most a year from now.", "until");
  if (overrides.length >= MAX_OVERRIDES) {
    throw new RuleError(`This rota already has ${overrides.length} covers, the most allowed. Remove one with rota uncover N first.`, "cover");
  }
  const clash = overrides.find((o) => sameMember(o.member, edit.member) && o.from === edit.from && o.until === edit.until);
  if (clash) throw new RuleError(`Cover ${clash.id} is exactly that already.`, "cover");
  const id = overrides.reduce((max, o) => Math.max(max, o.id), 0) + 1;
  return [...overrides, { id, member: edit.member, from: edit.from, until: edit.until }];
}

function uncover(overrides: readonly Override[], id: number): Override[] {
  if (!overrides.some((o) => o.id === id)) {
    const ids = overrides.map((o) => o.id);
    throw new RuleError(`There is no cover ${id}: ${ids.length === 0 ? "this rota has no covers" : `the covers are ${ids.join(", ")}`}.`, String(id));
  }
  return overrides.filter((o) => o.id !== id);
}

/** The rota after `edit`, with the same version. Throws RuleError, naming
 *  the part that is wrong, when the edit cannot be applied. Covers that
 *  have ended are dropped. */
export function applyRotaEdit(current: Rota, edit: RotaEdit, ctx: RotaEditContext): Rota {
  const rota: Rota = { ...current, overrides: current.overrides.filter((o) => o.until > ctx.now) };
  switch (edit.kind) {
    case "members":
      return { ...rota, members: edit.members };
    case "rotation":
      // The first member's turn begins at the latest handover: the order starts again from them.
      return { ...rota, rotation: edit.rotation, anchor: ctx.anchorFor(edit.rotation, ctx.now) };
    case "cover":
      return { ...rota, overrides: cover(rota.overrides, edit, ctx.now) };
    case "uncover":
      return { ...rota, overrides: uncover(current.overrides, edit.id).filter((o) => o.until > ctx.now) };
    case "escalation":
      return { ...rota, escalation: edit.escalation };
    case "rules":
      return { ...rota, rules: applyEdit(rota.rules, edit.command.edit, { maxRules: ctx.maxRules }) };
  }
}
