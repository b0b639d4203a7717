import { Address, tryParseAddress } from "../ids/address";
import { MatrixUserId, tryParseMatrixUserId } from "../ids/matrix";
import { Command as RuleCommand, parseCommand as parseRuleCommand } from "../rules/commands";
import { parseTestTime } from "../rules/testTime";
import { Words, dayByName, parseClock } from "../rules/words";
import { normalTimeZone } from "../rules/zone";
import { RuleError } from "../model/rules";
import { Escalation, RotaMember, RotaName, Rotation, tryParseRotaName } from "../model/rota";

/**
 * The `rota …` commands a rota room's members type. Parsing only reads;
 * edits are applied to the stored rota by applyRotaEdit (edits.ts). Every
 * error is a RuleError quoting the word not understood, as the rules'
 * commands do.
 */

/** A change to an existing rota. */
export type RotaEdit =
  | { kind: "members"; members: RotaMember[] | null }
  | { kind: "rotation"; rotation: Rotation }
  | { kind: "cover"; member: RotaMember; from: number; until: number }
  | { kind: "uncover"; id: number }
  | { kind: "escalation"; escalation: Escalation }
  | { kind: "rules"; command: Extract<RuleCommand, { kind: "edit" }> };

export type RotaCommand =
  | { kind: "help" }
  | { kind: "who" }
  | { kind: "shifts"; count: number }
  | { kind: "show_members" }
  | { kind: "show_rules" }
  | { kind: "test_rules"; command: Extract<RuleCommand, { kind: "test" }> }
  /** The URL of the rota's calendar feed (made on first use); with reset, a new one. */
  | { kind: "calendar"; reset: boolean }
  | { kind: "create"; name: RotaName }
  | { kind: "delete" }
  | { kind: "edit"; edit: RotaEdit };

export interface RotaCommandContext {
  /** The rota's zone (the bridge's for a room with no rota yet): times without a zone are read in it. */
  zone: string;
  /** ms since the epoch */
  now: number;
  /** Who sent the command (`me`). */
  sender: MatrixUserId;
  /** The local user an address on this homeserver's domain is (alice@example.org → @alice:example.org). */
  localUserOf(address: Address): MatrixUserId | undefined;
  /** Whether a Matrix id is a user of this homeserver (the bridge rings only
   *  those in Matrix; anyone else is reached by their WebCall address). */
  isLocalUser(userId: MatrixUserId): boolean;
}

export const DEFAULT_SHIFTS = 5;
export const MAX_SHIFTS = 50;
export const MAX_MEMBERS = 200;
/** The shortest and longest an escalation step may ring. */
export const MIN_STEP_MS = 5_000;
export const MAX_STEP_MS = 10 * 60_000;

const MEMBER = "a member like @alice:example.org, an address like carol@hello.com, or me";

/** `@alice:example.org`, `carol@hello.com`, `alice@<this domain>` (a local user) or `me`. */
export function parseMember(words: Words, ctx: RotaCommandContext): RotaMember {
  const word = words.next();
  if (word === undefined) return words.fail(MEMBER, undefined);
  if (word.toLowerCase() === "me") return { kind: "matrix", userId: ctx.sender };
  if (word.startsWith("@")) {
    const userId = tryParseMatrixUserId(word) ?? words.fail(`${MEMBER} (a Matrix id is @name:server, in lower case)`, word);
    if (!ctx.isLocalUser(userId)) {
      throw new RuleError(`${word} is not a user of this homeserver that I can ring: name someone from another node by their WebCall address, like carol@hello.com.`, word);
    }
    return { kind: "matrix", userId };
  }
  const address = tryParseAddress(word) ?? words.fail(MEMBER, word);
  const local = ctx.localUserOf(address);
  return local ? { kind: "matrix", userId: local } : { kind: "address", address };
}

function parseMembers(words: Words, ctx: RotaCommandContext): RotaCommand {
  if (words.done()) return { kind: "show_members" };
  if (words.keyword() === "room" || words.keyword() === "reset") {
    words.next();
    words.end();
    return { kind: "edit", edit: { kind: "members", members: null } };
  }
  const members: RotaMember[] = [];
  while (!words.done()) {
    const before = words.peek();
    const member = parseMember(words, ctx);
    const id = member.kind === "matrix" ? member.userId : member.address;
    if (members.some((m) => (m.kind === "matrix" ? m.userId : m.address) === id)) {
      throw new RuleError(`${before} is named twice in "${words.text}": each member has one place in the order.`, before);
    }
    members.push(member);
  }
  if (members.length > MAX_MEMBERS) throw new RuleError(`A rota can have at most ${MAX_MEMBERS} members; that is ${members.length}.`, "members");
  return { kind: "edit", edit: { kind: "members", members } };
}

function parseZone(words: Words, ctx: RotaCommandContext): string {
  const word = words.next();
  if (word === undefined) return ctx.zone;
  const zone = normalTimeZone(word) ?? words.fail("an IANA time zone like Europe/London", word);
  words.end();
  return zone;
}

function parseClockWord(words: Words): string {
  const word = words.next();
  return parseClock(word) ?? words.fail("a handover time like 09:00", word);
}

function parseRotation(every: "week" | "day", words: Words, ctx: RotaCommandContext): RotaCommand {
  if (every === "week") {
    const word = words.next();
    const weekday = (word === undefined ? undefined : dayByName(word)) ?? words.fail("a day like mon", word);
    const time = parseClockWord(words);
    return { kind: "edit", edit: { kind: "rotation", rotation: { every, weekday, time, zone: parseZone(words, ctx) } } };
  }
  const time = parseClockWord(words);
  return { kind: "edit", edit: { kind: "rotation", rotation: { every, time, zone: parseZone(words, ctx) } } };
}

function parseCover(words: Words, ctx: RotaCommandContext): RotaCommand {
  const member = parseMember(words, ctx);
  let from = ctx.now;
  if (words.keyword() === "from") {
    words.next();
    from = parseTestTime(words, ctx.zone, ctx.now);
  }
  if (words.keyword() !== "until") words.fail(`"until" and a time, like until 2026-12-04 18:00`);
  words.next();
  const until = parseTestTime(words, ctx.zone, ctx.now);
  words.end();
  return { kind: "edit", edit: { kind: "cover", member, from, until } };
}

function parseNumber(words: Words, what: string): number {
  const word = words.next();
  const m = /^#?(\d{1,6})$/.exec(word ?? "");
  return m ? Number(m[1]) : words.fail(what, word);
}

/** `30s`, `45 s`, `2m`, `1min`, `90sec`. */
export function parseDuration(words: Words): number {
  let word = words.next();
  if (word !== undefined && /^\d+$/.test(word) && /^[a-z]+$/i.test(words.peek() ?? "")) word += words.next();
  const m = /^(\d{1,4})(s|secs?|seconds?|m|mins?|minutes?)$/i.exec(word ?? "");
  if (!m) return words.fail("a time to ring like 30s or 2m", word);
  const ms = Number(m[1]) * (m[2]!.toLowerCase().startsWith("m") ? 60_000 : 1000);
  if (ms < MIN_STEP_MS || ms > MAX_STEP_MS) {
    throw new RuleError(`Each step rings for ${MIN_STEP_MS / 1000}s to ${MAX_STEP_MS / 60_000}m, not ${word}.`, word);
  }
  return ms;
}

function parseEscalate(words: Words): RotaCommand {
  const stepMs = parseDuration(words);
  let thenAll = false;
  if (words.keyword() === "then") {
    words.next();
    if (words.keyword() !== "all" && words.keyword() !== "everyone") words.fail("all, as in then all");
    words.next();
    thenAll = true;
  }
  words.end(`nothing more, or "then all" to ring everyone after the first step`);
  return { kind: "edit", edit: { kind: "escalation", escalation: { mode: "sequence", stepMs, thenAll } } };
}

function parseRules(words: Words, ctx: RotaCommandContext): RotaCommand {
  const rest = words.rest().join(" ");
  const command = parseRuleCommand(rest, { timeZone: ctx.zone, now: ctx.now });
  switch (command.kind) {
    case "rules": return { kind: "show_rules" };
    // `rota rules` alone lists them, as `rules` does in a DM.
    case "help": return rest === "" ? { kind: "show_rules" } : { kind: "help" };
    case "test": return { kind: "test_rules", command };
    case "link": throw new RuleError("link is a command of your own DM with me. A rota's call link is the same as a user's, with the rota's name: /call/<rota name>.", "link");
    case "edit":
      if (command.edit.kind === "timezone" || command.edit.kind === "notify_refused") {
        throw new RuleError(`A rota's rules have no ${command.edit.kind === "timezone" ? "zone of their own: times in them are read in the rota's zone"
          : "refused-call notices: refused callers are never told who refused"}.`, command.edit.kind);
      }
      return { kind: "edit", edit: { kind: "rules", command } };
  }
}

/** Reads one message that starts with `rota`; undefined for any other message. */
export function parseRotaCommand(text: string, ctx: RotaCommandContext): RotaCommand | undefined {
  const trimmed = text.trim();
  if (!/^rota(\s|$)/i.test(trimmed)) return undefined;
  const words = Words.of(trimmed);
  words.next();
  const word = words.next();
  switch (word?.toLowerCase()) {
    case undefined:
    case "help":
      words.end();
      return { kind: "help" };
    case "who":
      words.end();
      return { kind: "who" };
    case "shifts": {
      const count = words.done() ? DEFAULT_SHIFTS : parseNumber(words, `how many shifts to show, like 10`);
      words.end();
      if (count < 1 || count > MAX_SHIFTS) throw new RuleError(`I can show 1 to ${MAX_SHIFTS} shifts, not ${count}.`, String(count));
      return { kind: "shifts", count };
    }
    case "create": {
      const nameWord = words.next();
      const name = (nameWord === undefined ? undefined : tryParseRotaName(nameWord))
        ?? words.fail("a name like on-call (1-64 of a-z, 0-9, . _ -, starting with a letter or digit)", nameWord);
      words.end("nothing more: a rota's name is one word, like on-call");
      return { kind: "create", name };
    }
    case "delete":
      words.end();
      return { kind: "delete" };
    case "members": return parseMembers(words, ctx);
    case "weekly": return parseRotation("week", words, ctx);
    case "daily": return parseRotation("day", words, ctx);
    case "cover": return parseCover(words, ctx);
    case "uncover": {
      const id = parseNumber(words, "the number of a cover, like 2 (rota shifts lists them)");
      words.end();
      return { kind: "edit", edit: { kind: "uncover", id } };
    }
    case "escalate": return parseEscalate(words);
    case "ring":
      if (words.keyword() !== "all" && words.keyword() !== "everyone") words.fail(`all (or "rota escalate 30s" to ring in turn)`);
      words.next();
      words.end();
      return { kind: "edit", edit: { kind: "escalation", escalation: { mode: "all" } } };
    case "rules": return parseRules(words, ctx);
    case "calendar": {
      const reset = words.keyword() === "reset";
      if (reset) words.next();
      words.end(`nothing more, or "reset" for a new URL`);
      return { kind: "calendar", reset };
    }
    default:
      throw new RuleError(`I don't know the rota command "${word}". Send rota help to see the commands I understand.`, word);
  }
}
