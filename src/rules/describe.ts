import { Message, defaultName, defaultOutcomeText, describeRule, escapeHtml, outcome } from "./ruleText";
import { CallFacts, Decision, DefaultAction, RuleEdit, UserRules, WEEKDAYS, Weekday } from "../model/rules";
import { wallClock } from "./zone";

/**
 * The bot's replies about rules. Each comes as plain text (readable on its
 * own, for clients that show no HTML) and as HTML built from the same parts,
 * with every user-supplied piece escaped.
 */

export { describeRule, escapeHtml, type Message } from "./ruleText";
export { renderHelp } from "./help";

/** Plain and HTML paragraphs, joined. */
function paragraphs(parts: readonly string[]): Message {
  return { body: parts.join("\n"), html: parts.map((p) => `<p>${escapeHtml(p)}</p>`).join("") };
}

function joinMessages(...messages: readonly Message[]): Message {
  return { body: messages.map((m) => m.body).join("\n"), html: messages.map((m) => m.html).join("") };
}

function otherwiseLine(user: UserRules, bridgeDefault: DefaultAction | undefined): string {
  const start = user.rules.length === 0 ? "You have no rules, so every call" : "A call no rule matches";
  if (user.defaultAction !== null) return `${start} ${defaultOutcomeText(user.defaultAction)} (your default).`;
  if (bridgeDefault !== undefined) return `${start} ${defaultOutcomeText(bridgeDefault)} (the bridge's default).`;
  return `${start} follows the bridge's default.`;
}

function settingsLines(user: UserRules, bridgeTimeZone: string | undefined): string[] {
  const zone = user.timeZone ?? (bridgeTimeZone !== undefined ? `${bridgeTimeZone} (the bridge's zone)` : "the bridge's zone");
  return [
    `Days and times in rules written without a zone are read in ${zone}.`,
    user.notifyRefused
      ? "Refused calls are noted in your chat with the caller (notify refused off to keep them silent)."
      : "Refused calls are silent (notify refused on to have them noted in your chat with the caller).",
  ];
}

/** The numbered list of a user's rules, what happens otherwise, and their settings. */
export function renderRules(user: UserRules, bridgeDefault?: DefaultAction, bridgeTimeZone?: string): Message {
  if (user.rules.length === 0) {
    const hint = "Add one with, for example: allow *@employer.com on mon-fri 09:00-17:00";
    return paragraphs([otherwiseLine(user, bridgeDefault), hint, ...settingsLines(user, bridgeTimeZone)]);
  }
  const settings = paragraphs([otherwiseLine(user, bridgeDefault), ...settingsLines(user, bridgeTimeZone)]);
  const lines = user.rules.map(describeRule);
  const intro = "Your rules (the first that matches a call decides):";
  const list: Message = {
    body: [intro, ...lines.map((l, i) => `${i + 1}. ${l}`)].join("\n"),
    html: `<p>${escapeHtml(intro)}</p><ol>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ol>`,
  };
  return joinMessages(list, settings);
}

function when(at: number, zone: string): string {
  const c = wallClock(at, zone);
  const day = WEEKDAYS[c.weekday] as Weekday;
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${day.charAt(0).toUpperCase()}${day.slice(1)} ${c.year}-${pad(c.month)}-${pad(c.day)} ${pad(Math.floor(c.minutes / 60))}:${pad(c.minutes % 60)} (${zone})`;
}

/** Why a ring_verified default rang or refused the call. */
function verifiedReason(facts: CallFacts): string {
  if (facts.caller === null) return facts.verified ? "the anonymous caller is verified" : "an anonymous caller is not verified";
  return `the caller is ${facts.verified ? "verified" : "not verified"}`;
}

/** The answer to `test`: which rule (or default) would decide, and what would
 *  happen. `timeZone` is the zone to show the time in (default: the user's, else UTC). */
export function renderDecision(decision: Decision, facts: CallFacts, user: UserRules, bridgeDefault: DefaultAction, timeZone?: string): Message {
  const caller = facts.caller === null ? "an anonymous caller" : `${facts.caller} (${facts.verified ? "verified" : "unverified"})`;
  const intro = `A call from ${caller} at ${when(facts.at, timeZone ?? user.timeZone ?? "UTC")}:`;
  const result = outcome(decision.action, decision.forwardTo, true);
  let verdict: string;
  if (decision.by === "rule" && decision.rule !== null) {
    const rule = user.rules[decision.rule - 1];
    verdict = `Rule ${decision.rule}${rule ? ` (${describeRule(rule)})` : ""} would fire: the call ${result}.`;
  } else if (decision.by === "user_default") {
    const own = user.defaultAction;
    verdict = own === "ring_verified"
      ? `No rule matches: your default (${defaultName(own)}) applies: ${verifiedReason(facts)}, so it ${result}.`
      : `No rule matches: your default applies: it ${result}.`;
  } else {
    const reason = bridgeDefault === "ring_verified" ? `${verifiedReason(facts)}, so ` : "";
    verdict = `No rule matches and you have no default: the bridge's default (${defaultName(bridgeDefault)}) applies: ${reason}it ${result}.`;
  }
  return paragraphs([intro, verdict, "This was only a test: nobody was rung."]);
}

function editSummary(edit: RuleEdit, user: UserRules, bridgeDefault: DefaultAction | undefined): string {
  switch (edit.kind) {
    case "add":
      return `Added rule ${edit.position ?? user.rules.length}: ${describeRule(edit.rule)}.`;
    case "remove":
      return `Removed rule ${edit.rule}.`;
    case "move":
      return `Moved rule ${edit.rule} to position ${edit.to}.`;
    case "default":
      if (edit.action === null) {
        return `A call no rule matches now follows the bridge's default${bridgeDefault ? ` (it ${defaultOutcomeText(bridgeDefault)})` : ""}.`;
      }
      return `A call no rule matches now ${defaultOutcomeText(edit.action)}.`;
    case "timezone":
      return `Rules written from now on without a zone are read in ${edit.timeZone ?? "the bridge's zone"}; rules you already have keep theirs.`;
    case "notify_refused":
      return edit.on ? "Refused calls will now be noted in your chat with the caller." : "Refused calls will now be silent.";
  }
}

/** A short confirmation of an applied edit, then the rules as they now are.
 *  `user` is the rules after the edit. */
export function renderEditResult(edit: RuleEdit, user: UserRules, bridgeDefault?: DefaultAction, bridgeTimeZone?: string): Message {
  return joinMessages(paragraphs([editSummary(edit, user, bridgeDefault)]), renderRules(user, bridgeDefault, bridgeTimeZone));
}
