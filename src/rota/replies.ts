import { describeRule, escapeHtml, Message } from "../rules/ruleText";
import { DefaultAction } from "../model/rules";
import { Escalation, Override, Rota, RotaMember, Rotation } from "../model/rota";
import { RotaEdit } from "./commands";
import { memberText, whenText } from "./shiftText";

/**
 * The bot's replies to `rota …` commands other than `who` and `shifts`
 * (shiftText.ts): plain text readable on its own, and the same as HTML with
 * every user-supplied piece escaped.
 */

export function plain(...lines: readonly string[]): Message {
  return { body: lines.join("\n"), html: lines.map((l) => `<p>${escapeHtml(l)}</p>`).join("") };
}

function dayName(day: string): string {
  return day.charAt(0).toUpperCase() + day.slice(1);
}

export function rotationText(r: Rotation): string {
  return r.every === "week" ? `weekly, handover ${dayName(r.weekday)} ${r.time} ${r.zone}` : `daily, handover ${r.time} ${r.zone}`;
}

export function escalationText(e: Escalation): string {
  if (e.mode === "all") return "every member rings at once";
  const step = e.stepMs % 60_000 === 0 ? `${e.stepMs / 60_000}m` : `${e.stepMs / 1000}s`;
  return e.thenAll
    ? `the person on call rings for ${step}, then every member at once`
    : `the person on call rings for ${step}, then the next in order for ${step}, and so on`;
}

export function membersText(members: readonly RotaMember[] | null): string {
  if (members === null) return "the room's joined members, in the order they joined";
  if (members.length === 0) return "nobody";
  return members.map(memberText).join(", ");
}

export function coverLine(o: Override, zone: string): string {
  return `cover ${o.id}: ${memberText(o.member)} from ${whenText(o.from, zone)} until ${whenText(o.until, zone)}`;
}

function defaultText(action: DefaultAction | null): string {
  switch (action) {
    case null: return "follow the bridge's default";
    case "ring": return "ring";
    case "refuse": return "are refused";
    case "ring_verified": return "ring if the caller is verified, else are refused";
  }
}

/** The rota at a glance: its address, members, handovers, escalation, covers and rules. */
export function rotaSummary(rota: Rota, address: string, now: number): string[] {
  const zone = rota.rotation.zone;
  const covers = rota.overrides.filter((o) => o.until > now);
  return [
    `This room is the rota ${address}: calls to it ring whoever is on call.`,
    `Members: ${membersText(rota.members)}.`,
    `Shifts: ${rotationText(rota.rotation)}.`,
    `Escalation: ${escalationText(rota.escalation)}.`,
    covers.length === 0 ? "Covers: none." : `Covers: ${covers.map((o) => coverLine(o, zone)).join("; ")}.`,
    `Rules: ${rota.rules.rules.length === 0 ? "none" : rota.rules.rules.length}; calls no rule matches ${defaultText(rota.rules.defaultAction)}.`,
  ];
}

/** `rota rules`: the numbered rules and the default. */
export function rulesReply(rota: Rota): Message {
  const otherwise = `A call no rule matches ${defaultText(rota.rules.defaultAction)}${rota.rules.defaultAction === null ? "" : " (the rota's default)"}.`;
  if (rota.rules.rules.length === 0) {
    return plain(`The rota ${rota.name} has no rules. ${otherwise}`, "Add one with, for example: rota rules refuse anonymous");
  }
  const lines = rota.rules.rules.map(describeRule);
  const intro = `The rules of ${rota.name} (the first that matches a call decides):`;
  return {
    body: [intro, ...lines.map((l, i) => `${i + 1}. ${l}`), otherwise].join("\n"),
    html: `<p>${escapeHtml(intro)}</p><ol>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ol><p>${escapeHtml(otherwise)}</p>`,
  };
}

/** What an applied edit did, in one line. */
export function editText(edit: RotaEdit, after: Rota): string {
  const zone = after.rotation.zone;
  switch (edit.kind) {
    case "members": return `Members: ${membersText(after.members)}.`;
    case "rotation": return `Shifts are now ${rotationText(after.rotation)}; the first member's turn began at ${whenText(after.anchor, zone)}.`;
    case "cover": {
      const added = after.overrides.reduce((a, b) => (b.id > a.id ? b : a));
      return `Added ${coverLine(added, zone)} (${zone}). rota uncover ${added.id} takes it back.`;
    }
    case "uncover": return `Removed cover ${edit.id}.`;
    case "escalation": return `Escalation: ${escalationText(after.escalation)}.`;
    case "rules": {
      const e = edit.command.edit;
      if (e.kind === "add") return `Added rule ${e.position ?? after.rules.rules.length}: ${describeRule(e.rule)}.`;
      if (e.kind === "remove") return `Removed rule ${e.rule}.`;
      if (e.kind === "move") return `Moved rule ${e.rule} to position ${e.to}.`;
      return `A call no rule matches now ${defaultText(after.rules.defaultAction)}.`;
    }
  }
}

/** `rota calendar [reset]`: the feed's URL and what it is for. */
export function calendarText(address: string, url: string, reset: boolean): string {
  const what = reset ? `New calendar URL for ${address}; the old one no longer works:` : `The shifts of ${address} as a calendar to subscribe to:`;
  return `${what} ${url} — anyone with this URL can read the shifts; a moderator can make a new one with rota calendar reset.`;
}
