import { tryParseAddress } from "../ids/address";
import { Rule, RuleAction, RuleError, WEEKDAYS, Weekday } from "../model/rules";
import { Words, dayByName, parseClock } from "./words";
import { normalTimeZone } from "./zone";

/**
 * The rule part of `allow`, `refuse` and `forward` commands:
 *   who  := anyone | everyone | anonymous | [verified|unverified] [address | glob | domain]
 *   when := [on <days>] [HH:MM-HH:MM | from HH:MM to HH:MM] [in <zone>]
 * followed by an optional `as "label"`.
 */

const WHO = "anyone, anonymous, verified, an address like alf@employer.com, a pattern like *@employer.com, or a domain like employer.com";
const WHEN = "when the rule applies, like on mon-fri, 09:00-17:00 or in Europe/London";
const DAYS = "days like mon-fri, mon,wed,fri, weekdays, weekends or daily";
const HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const GLOB_LOCAL = /^[A-Za-z0-9._=+/*?-]+$/;
const GLOB_DOMAIN = /^[A-Za-z0-9.*?-]+$/;
const RULE_FIELDS = ["caller", "domain", "anonymous", "verified", "days", "from", "to", "timeZone", "action", "forwardTo", "label"] as const;
const RANGE = /^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$/;

/** `mon-fri`, `fri-mon`, `mon,wed,fri`, `weekdays`, `monday` → days in week
 *  order; "all" for every day; undefined when not days at all. */
export function parseDays(word: string): Weekday[] | "all" | undefined {
  const set = new Set<Weekday>();
  for (const part of word.toLowerCase().split(",")) {
    if (part === "daily" || part === "everyday") return "all";
    if (part === "weekdays") WEEKDAYS.slice(0, 5).forEach((d) => set.add(d));
    else if (part === "weekends" || part === "weekend") WEEKDAYS.slice(5).forEach((d) => set.add(d));
    else if (part.includes("-")) {
      const [first, last, extra] = part.split("-").map(dayByName);
      if (!first || !last || extra !== undefined || part.split("-").length !== 2) return undefined;
      // A range may run over the weekend: fri-mon is fri, sat, sun, mon.
      for (let i = WEEKDAYS.indexOf(first); ; i = (i + 1) % 7) {
        set.add(WEEKDAYS[i] as Weekday);
        if (WEEKDAYS[i] === last) break;
      }
    } else {
      const day = dayByName(part);
      if (!day) return undefined;
      set.add(day);
    }
  }
  return set.size === 7 ? "all" : WEEKDAYS.filter((d) => set.has(d));
}

function startsWhen(words: Words): boolean {
  const word = words.keyword();
  if (word === undefined) return false;
  return word === "on" || word === "from" || word === "in" || word === "as" || RANGE.test(word)
    || parseClock(word) !== undefined || parseDays(word) !== undefined;
}

function parseTarget(words: Words, word: string): Partial<Rule> {
  if (word.includes("@")) {
    if (/[*?]/.test(word)) {
      const at = word.lastIndexOf("@");
      const local = word.slice(0, at);
      const domain = word.slice(at + 1);
      if (GLOB_LOCAL.test(local) && GLOB_DOMAIN.test(domain)) return { caller: `${local}@${domain.toLowerCase()}` };
    } else {
      const address = tryParseAddress(word);
      if (address) return { caller: address };
    }
    words.fail("an address like alf@employer.com or a pattern like *@employer.com", word);
  }
  if (HOST.test(word)) return { domain: word.toLowerCase() };
  words.fail(`${WHO}, or ${WHEN}`, word);
}

function parseWho(words: Words): Partial<Rule> {
  const first = words.keyword();
  if (first === "anyone" || first === "everyone") {
    words.next();
    return {};
  }
  const who: Partial<Rule> = {};
  if (first === "verified" || first === "unverified") {
    words.next();
    who.verified = first === "verified";
    if (words.keyword() === "anyone" || words.keyword() === "everyone") words.next();
  }
  if (words.keyword() === "anonymous") {
    words.next();
    return { ...who, anonymous: true };
  }
  if (words.done() || startsWhen(words)) return who;
  return { ...who, ...parseTarget(words, words.next() as string) };
}

function parseTimes(words: Words, start: string | undefined, end: string | undefined): { from: string; to: string } {
  const from = parseClock(start) ?? words.fail("a time like 09:00", start);
  const to = parseClock(end, true) ?? words.fail("a time like 17:00 (24:00 for the end of the day)", end);
  if (from === to) words.fail("a time range that starts and ends at different times", end);
  return { from, to };
}

function parseWhen(words: Words, ctxZone: string): Partial<Rule> {
  let days: Weekday[] | "all" | undefined;
  let times: { from: string; to: string } | undefined;
  let zone: string | undefined;
  const once = (already: unknown, what: string): void => {
    if (already !== undefined) words.fail(`${what} only once`);
  };
  while (!words.done()) {
    const word = words.keyword() as string;
    const range = RANGE.exec(word);
    if (word === "on" || parseDays(word) !== undefined) {
      once(days, "days");
      if (word === "on") words.next();
      const spec = words.next();
      days = (spec === undefined ? undefined : parseDays(spec)) ?? words.fail(DAYS, spec);
    } else if (word === "from" || range || parseClock(word) !== undefined) {
      once(times, "a time range");
      if (range) {
        words.next();
        times = parseTimes(words, range[1], range[2]);
      } else {
        if (word === "from") words.next();
        const start = words.next();
        const joiner = words.keyword();
        if (joiner !== "to" && joiner !== "until") words.fail(`"to" and the end time, like from 09:00 to 17:00`);
        words.next();
        times = parseTimes(words, start, words.next());
      }
    } else if (word === "in") {
      once(zone, "a time zone");
      words.next();
      const name = words.next();
      zone = (name === undefined ? undefined : normalTimeZone(name)) ?? words.fail("an IANA time zone like Europe/London", name);
    } else if (word === "to") {
      words.fail(`${WHEN} (to send calls on to another address, use forward … to <address>)`);
    } else if (word === "as") {
      words.fail('a label in quotes at the very end, like as "work hours"', words.peek(1) ?? word);
    } else {
      words.fail(WHEN);
    }
  }
  const timed = (days !== undefined && days !== "all") || times !== undefined;
  return {
    ...(Array.isArray(days) ? { days } : {}),
    ...(times ?? {}),
    // Without a zone, days and times are read where the user lives.
    ...(timed ? { timeZone: zone ?? ctxZone } : {}),
  };
}

/** Pulls `as "label"` off the end of a command. */
export function splitLabel(text: string): { text: string; label?: string } {
  const m = /\s+as\s+(?:"([^"]*)"|\u201c([^\u201d]*)\u201d)\s*$/i.exec(text);
  if (!m) return { text };
  const label = (m[1] ?? m[2] ?? "").trim();
  if (label.length < 1 || label.length > 64) {
    throw new RuleError(`The label "${label}" must be 1 to 64 characters.`, label);
  }
  return { text: text.slice(0, m.index), label };
}

/** Finds `to <address>` in a forward command; `from 09:00 to 17:00` is not it. */
function takeForwardTarget(words: Words): { forwardTo: string; rest: Words } {
  const all = words.rest();
  for (let i = 0; i < all.length; i++) {
    if (all[i]?.toLowerCase() !== "to") continue;
    const target = all[i + 1];
    const address = tryParseAddress(target);
    if (address) return { forwardTo: address, rest: new Words(words.text, [...all.slice(0, i), ...all.slice(i + 2)]) };
    const afterTime = parseClock(all[i - 1]) !== undefined;
    if (!afterTime) words.fail("an address to forward to, like alice@hello.com", target);
  }
  throw new RuleError(`"${words.text}" doesn't say where to forward calls: add "to" and an address, like forward to alice@hello.com.`, "to");
}

/** The rule an `allow`, `refuse` or `forward` command describes; `words`
 *  starts after the command word, with any label already taken off. */
export function parseRule(words: Words, action: RuleAction, ctxZone: string, label?: string): Rule {
  let forwardTo: string | undefined;
  if (action === "forward") ({ forwardTo, rest: words } = takeForwardTarget(words));
  const rule: Rule = { ...parseWho(words), ...parseWhen(words, ctxZone), action, forwardTo, label };
  // Fields in the order types.ts declares them, so stored rules read alike.
  return Object.fromEntries(RULE_FIELDS.flatMap((key) => (rule[key] === undefined ? [] : [[key, rule[key]]]))) as unknown as Rule;
}
