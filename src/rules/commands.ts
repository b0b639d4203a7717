import { Address, tryParseAddress } from "../ids/address";
import { parseRule, splitLabel } from "./ruleWords";
import { parseTestTime } from "./testTime";
import { CallFacts, DefaultAction, RuleAction, RuleEdit, RuleError } from "../model/rules";
import { Words } from "./words";
import { normalTimeZone } from "./zone";

/**
 * The bot's command language: one message, one command. Parsing only reads;
 * edits are applied (and checked against the current rules) by applyEdit.
 * Every error is a RuleError that quotes the word not understood.
 */

export type Command =
  | { kind: "help" }
  | { kind: "rules" }
  | { kind: "link" }
  | { kind: "edit"; edit: RuleEdit }
  | { kind: "test"; facts: CallFacts };

export interface CommandContext {
  /** The user's zone (or the bridge's): rules and test times without one are read in it. */
  timeZone: string;
  /** ms since the epoch */
  now: number;
}

const RULE_ACTIONS: Readonly<Record<string, RuleAction>> = { allow: "ring", refuse: "refuse", forward: "forward" };
const DEFAULTS: Readonly<Record<string, DefaultAction | null>> = {
  ring: "ring", allow: "ring", refuse: "refuse", bridge: null,
  verified: "ring_verified", "ring-verified": "ring_verified", ring_verified: "ring_verified",
};

function ruleNumber(words: Words): number {
  if (words.keyword() === "rule") words.next();
  const word = words.next();
  const m = /^#?(\d{1,6})$/.exec(word ?? "");
  return m ? Number(m[1]) : words.fail("a rule number like 2", word);
}

function edit(edit: RuleEdit): Command {
  return { kind: "edit", edit };
}

function parseMove(words: Words): Command {
  const rule = ruleNumber(words);
  if (words.keyword() !== "to") words.fail(`"to" and a position, like move 3 to 1`);
  words.next();
  if (words.keyword() === "position") words.next();
  const to = ruleNumber(words);
  words.end();
  return edit({ kind: "move", rule, to });
}

/** `default ring|refuse|verified|bridge`; `ring verified` (or `allow verified`,
 *  `ring-verified`) is `verified`: ring verified callers, refuse the rest. */
function parseDefault(words: Words): Command {
  const word = words.keyword();
  if (word === undefined || !Object.hasOwn(DEFAULTS, word)) words.fail("ring, refuse, verified or bridge");
  words.next();
  let action = DEFAULTS[word] ?? null;
  if (action === "ring" && words.keyword() === "verified") {
    words.next();
    action = "ring_verified";
  }
  words.end(action === "ring" ? "nothing more, or verified to ring only verified callers" : "nothing more");
  return edit({ kind: "default", action });
}

function parseTimeZone(words: Words): Command {
  const word = words.next();
  if (word?.toLowerCase() === "bridge") {
    words.end();
    return edit({ kind: "timezone", timeZone: null });
  }
  const zone = (word === undefined ? undefined : normalTimeZone(word)) ?? words.fail("an IANA time zone like Europe/London, or bridge", word);
  words.end();
  return edit({ kind: "timezone", timeZone: zone });
}

function parseNotify(words: Words): Command {
  if (words.keyword() !== "refused") words.fail("refused, as in notify refused on");
  words.next();
  const word = words.keyword();
  if (word !== "on" && word !== "off") words.fail("on or off");
  words.next();
  words.end();
  return edit({ kind: "notify_refused", on: word === "on" });
}

function parseTest(words: Words, ctx: CommandContext): Command {
  // `in <zone>` may close the command; it says how to read the time before it.
  const rest = words.rest();
  let zone = ctx.timeZone;
  if (rest.length >= 2 && rest[rest.length - 2]?.toLowerCase() === "in") {
    const name = rest[rest.length - 1] as string;
    zone = normalTimeZone(name) ?? words.fail("an IANA time zone like Europe/London", name);
    words = new Words(words.text, rest.slice(0, -2));
  }
  const who = words.next();
  let caller: Address | null = null;
  if (who?.toLowerCase() !== "anonymous") {
    caller = tryParseAddress(who) ?? words.fail("a caller's address like alf@employer.com, or anonymous", who);
  }
  let verified = false;
  if (words.keyword() === "verified" || words.keyword() === "unverified") verified = words.next()?.toLowerCase() === "verified";
  let at = ctx.now;
  if (words.keyword() === "at") {
    words.next();
    at = parseTestTime(words, zone, ctx.now);
    words.end();
  } else {
    words.end(`verified, or "at" and a time, like at mon 10:00`);
  }
  return { kind: "test", facts: { caller, verified, at } };
}

/** Reads one message sent to the bot. Throws RuleError naming the word that
 *  is not understood. */
export function parseCommand(text: string, ctx: CommandContext): Command {
  const command = text.trim().replace(/^!webcall(?:\s+|$)/i, "");
  const first = /^\S*/.exec(command)?.[0].toLowerCase() ?? "";
  const action = Object.hasOwn(RULE_ACTIONS, first) ? RULE_ACTIONS[first] : undefined;
  if (action) {
    const { text: withoutLabel, label } = splitLabel(command);
    const words = Words.of(withoutLabel);
    words.next();
    // Error messages quote the whole command, label included.
    return edit({ kind: "add", rule: parseRule(new Words(command, words.rest()), action, ctx.timeZone, label) });
  }
  const words = Words.of(command);
  words.next();
  switch (first) {
    case "":
    case "help":
      return { kind: "help" };
    case "rules":
    case "list":
      words.end();
      return { kind: "rules" };
    case "link":
      words.end();
      return { kind: "link" };
    case "remove": {
      const rule = ruleNumber(words);
      words.end();
      return edit({ kind: "remove", rule });
    }
    case "move":
      return parseMove(words);
    case "default":
      return parseDefault(words);
    case "timezone":
      return parseTimeZone(words);
    case "notify":
      return parseNotify(words);
    case "test":
      return parseTest(words, ctx);
    default:
      throw new RuleError(`I don't know the command "${/^\S*/.exec(command)?.[0]}". Send help to see the commands I understand.`, first);
  }
}
