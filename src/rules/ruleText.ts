import { DefaultAction, Rule, RuleAction, WEEKDAYS, Weekday } from "../model/rules";

/**
 * Rules in words, the way the bot's commands write them, so what users read
 * is close to what they would type (`allow *@employer.com, Mon–Fri …`).
 */

/** A bot reply: plain text readable on its own, and the same as HTML. */
export interface Message {
  body: string;
  html: string;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const VERB: Readonly<Record<RuleAction, string>> = { ring: "allow", refuse: "refuse", forward: "forward" };

function dayName(day: Weekday): string {
  return day.charAt(0).toUpperCase() + day.slice(1);
}

/** `Mon–Fri`, `Mon, Wed, Fri`, `Mon–Wed, Sat–Sun`; all seven: `every day`. */
export function formatDays(days: readonly Weekday[]): string {
  const indexes = WEEKDAYS.map((d, i) => (days.includes(d) ? i : -1)).filter((i) => i >= 0);
  if (indexes.length === 7) return "every day";
  const runs: string[] = [];
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && (indexes[j + 1] as number) === (indexes[j] as number) + 1) j++;
    const first = dayName(WEEKDAYS[indexes[i] as number] as Weekday);
    runs.push(j === i ? first : `${first}–${dayName(WEEKDAYS[indexes[j] as number] as Weekday)}`);
    i = j + 1;
  }
  return runs.join(", ");
}

function describeWho(rule: Rule): string {
  if (rule.anonymous === true) return rule.verified === undefined ? "anonymous" : `${rule.verified ? "verified" : "unverified"} anonymous`;
  let target = rule.caller !== undefined && rule.domain !== undefined ? `${rule.caller} in ${rule.domain}` : rule.caller ?? rule.domain;
  if (target === undefined && rule.anonymous === false) target = "anyone with an address";
  if (rule.verified === undefined) return target ?? "anyone";
  return `${rule.verified ? "verified" : "unverified"} ${target ?? "callers"}`;
}

function describeWhen(rule: Rule): string | undefined {
  if (rule.days === undefined && rule.from === undefined) return undefined;
  const days = rule.days === undefined ? "every day" : formatDays(rule.days);
  const times = rule.from !== undefined && rule.to !== undefined ? ` ${rule.from}–${rule.to}` : "";
  return `${days}${times} (${rule.timeZone ?? "UTC"})`;
}

/** One line, e.g. `forward anyone to alice@hello.com, Mon–Fri 09:00–17:00 (Europe/London)`. */
export function describeRule(rule: Rule): string {
  const forward = rule.action === "forward" ? ` to ${rule.forwardTo ?? "?"}` : "";
  const when = describeWhen(rule);
  const label = rule.label !== undefined ? ` as "${rule.label}"` : "";
  return `${VERB[rule.action]} ${describeWho(rule)}${forward}${when ? `, ${when}` : ""}${label}`;
}

/** What happens to a call, as the end of a sentence: `rings`, `is forwarded to …`. */
export function outcome(action: RuleAction, forwardTo: string | undefined, would: boolean): string {
  switch (action) {
    case "ring": return would ? "would ring" : "rings";
    case "refuse": return would ? "would be refused" : "is refused";
    case "forward": return `${would ? "would be" : "is"} forwarded to ${forwardTo ?? "?"}`;
  }
}

/** What a default does to the calls it decides, as the end of a sentence:
 *  `rings`, `is refused`, `rings if the caller is verified, and is refused if not`. */
export function defaultOutcomeText(action: DefaultAction): string {
  return action === "ring_verified" ? "rings if the caller is verified, and is refused if not" : outcome(action, undefined, false);
}

/** A default's name in a sentence: `ring`, `refuse`, `ring verified callers only`. */
export function defaultName(action: DefaultAction): string {
  return action === "ring_verified" ? "ring verified callers only" : action;
}
