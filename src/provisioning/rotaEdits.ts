import { RuleError } from "../model/rules";
import { Escalation, RotaMember, Rotation } from "../model/rota";
import { parseClock, Words } from "../rules/words";
import { normalTimeZone } from "../rules/zone";
import { parseMember, RotaCommandContext, RotaEdit } from "../rota/commands";
import { memberKey } from "../rota/schedule";
import { badValue } from "./errors";
import { CoverBody, EscalationBody, MembersBody, RotationBody } from "./rotaSchemas";

/**
 * The rota routes' bodies as the same edits the bot's `rota …` commands
 * make (src/rota/commands.ts): members are read by the commands' own
 * parseMember, so `me`, `alice@this-domain` and remote addresses mean what
 * they mean in the room. What the schema cannot say (a real zone, weekday
 * only for weekly, step length only for a sequence) is checked here and
 * named as a body field.
 */

type Edit = { edit: RotaEdit; version?: number };

function member(text: string, field: string, ctx: RotaCommandContext): RotaMember {
  try {
    const words = Words.of(text);
    const m = parseMember(words, ctx);
    words.end();
    return m;
  } catch (error) {
    if (error instanceof RuleError) throw badValue(`${field}: ${error.message}`);
    throw error;
  }
}

export const rotaEditOf = {
  members(body: MembersBody, ctx: RotaCommandContext): Edit {
    if (body.members === null) return { edit: { kind: "members", members: null }, version: body.version };
    const members: RotaMember[] = [];
    body.members.forEach((text, i) => {
      const m = member(text, `body.members[${i}]`, ctx);
      if (members.some((other) => memberKey(other) === memberKey(m))) throw badValue(`body.members[${i}] names a member twice: each has one place in the order`);
      members.push(m);
    });
    return { edit: { kind: "members", members }, version: body.version };
  },

  rotation(body: RotationBody, rotaZone: string): Edit {
    const time = parseClock(body.time);
    if (time === undefined) throw badValue("body.time must be a handover time like 09:00");
    const zone = body.zone === undefined ? rotaZone : normalTimeZone(body.zone);
    if (zone === undefined) throw badValue(`body.zone "${body.zone}" is not an IANA time zone`);
    let rotation: Rotation;
    if (body.every === "week") {
      if (body.weekday === undefined) throw badValue("body.weekday is missing: a weekly rotation hands over on one day");
      rotation = { every: "week", weekday: body.weekday, time, zone };
    } else {
      if (body.weekday !== undefined) throw badValue("body.weekday is for a weekly rotation only");
      rotation = { every: "day", time, zone };
    }
    return { edit: { kind: "rotation", rotation }, version: body.version };
  },

  cover(body: CoverBody, ctx: RotaCommandContext): Edit {
    const m = member(body.member, "body.member", ctx);
    return { edit: { kind: "cover", member: m, from: body.from ?? ctx.now, until: body.until }, version: body.version };
  },

  escalation(body: EscalationBody): Edit {
    let escalation: Escalation;
    if (body.mode === "all") {
      if (body.stepMs !== undefined || body.thenAll !== undefined) throw badValue("body.stepMs and body.thenAll are for mode \"sequence\" only");
      escalation = { mode: "all" };
    } else {
      if (body.stepMs === undefined) throw badValue("body.stepMs is missing: how long each step rings, in ms");
      escalation = { mode: "sequence", stepMs: body.stepMs, thenAll: body.thenAll ?? false };
    }
    return { edit: { kind: "escalation", escalation }, version: body.version };
  },
};
