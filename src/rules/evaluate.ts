import { Address, domainOf, tryParseAddress } from "../ids/address";
import { CallFacts, Decision, DefaultAction, Rule, RuleAction, UserRules, WEEKDAYS } from "../model/rules";
import { isTimeZone, wallClock } from "./zone";

/**
 * Deciding what happens to a call. This runs for every arriving call, so a
 * user's rules are compiled once (globs to RegExps, days to bit masks, times
 * to minutes) and a decision reads each zone's clock at most once.
 */

const ALL_DAYS = 0b111_1111;
const END_OF_DAY = 24 * 60;

interface CompiledRule {
  /** 1-based, as users see it */
  readonly number: number;
  readonly action: RuleAction;
  readonly forwardTo?: Address;
  readonly label?: string;
  readonly anonymous?: boolean;
  readonly verified?: boolean;
  /** exact address (domain lower-cased) or glob */
  readonly caller?: string | RegExp;
  /** a glob's domain when it has no wildcard: compared first, as it is cheaper than the RegExp */
  readonly callerDomain?: string;
  /** exact domain, lower-cased */
  readonly domain?: string;
  /** `.employer.com` for `*.employer.com` */
  readonly domainSuffix?: string;
  /** index into CompiledRules.zones; -1 = no time condition */
  readonly zone: number;
  /** bit 0 = Monday */
  readonly days: number;
  /** minutes of the day; from < 0 = the whole day */
  readonly from: number;
  readonly to: number;
}

export interface CompiledRules {
  readonly rules: readonly CompiledRule[];
  /** the distinct zones the rules are read in */
  readonly zones: readonly string[];
  readonly defaultAction: DefaultAction | null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");
}

/** `*` any run, `?` one character, neither crossing the `@`. */
function globPart(glob: string): string {
  return glob.split(/([*?])/).map((piece) => (piece === "*" ? "[^@]*" : piece === "?" ? "[^@]" : escapeRegExp(piece))).join("");
}

/** The local part is compared case-sensitively; the domain is lower-cased
 *  here because addresses carry their domain lower-cased. */
function compileCaller(caller: string): { caller: string | RegExp; callerDomain?: string } {
  const at = caller.lastIndexOf("@");
  const local = at < 0 ? caller : caller.slice(0, at);
  const domain = at < 0 ? undefined : caller.slice(at + 1).toLowerCase();
  if (!/[*?]/.test(caller)) return { caller: domain === undefined ? local : `${local}@${domain}` };
  return {
    caller: new RegExp(`^${globPart(local)}${domain === undefined ? "" : `@${globPart(domain)}`}$`),
    ...(domain !== undefined && !/[*?]/.test(domain) ? { callerDomain: domain } : {}),
  };
}

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Compiles a user's rules for `decide`. Rules that could never fire (a
 *  forward without a valid address, an unknown zone: both refused when saved)
 *  are left out, and the others keep their numbers. */
export function compileRules(user: UserRules): CompiledRules {
  const zones: string[] = [];
  const zoneIndex = new Map<string, number>();
  const rules: CompiledRule[] = [];
  user.rules.forEach((rule: Rule, i) => {
    const forwardTo = rule.action === "forward" ? tryParseAddress(rule.forwardTo) : undefined;
    if (rule.action === "forward" && !forwardTo) return;
    const timed = rule.days !== undefined || rule.from !== undefined;
    let zone = -1;
    if (timed) {
      const name = rule.timeZone ?? "UTC";
      let index = zoneIndex.get(name);
      if (index === undefined) {
        index = isTimeZone(name) ? zones.push(name) - 1 : -1; // checked once per zone: it builds a formatter
        zoneIndex.set(name, index);
      }
      if (index < 0) return;
      zone = index;
    }
    const days = rule.days?.reduce((mask, day) => mask | (1 << WEEKDAYS.indexOf(day)), 0) ?? ALL_DAYS;
    const from = rule.from !== undefined && rule.to !== undefined ? minutesOf(rule.from) : -1;
    const to = rule.to !== undefined && from >= 0 ? minutesOf(rule.to) : END_OF_DAY;
    const domain = rule.domain?.toLowerCase();
    rules.push({
      number: i + 1,
      action: rule.action,
      ...(forwardTo ? { forwardTo } : {}),
      ...(rule.label !== undefined ? { label: rule.label } : {}),
      ...(rule.anonymous !== undefined ? { anonymous: rule.anonymous } : {}),
      ...(rule.verified !== undefined ? { verified: rule.verified } : {}),
      ...(rule.caller !== undefined ? compileCaller(rule.caller) : {}),
      ...(domain?.startsWith("*.") ? { domainSuffix: domain.slice(1) } : domain !== undefined ? { domain } : {}),
      zone, days, from, to,
    });
  });
  return { rules, zones, defaultAction: user.defaultAction };
}

function whoMatches(rule: CompiledRule, facts: CallFacts, callerDomain: string | undefined): boolean {
  if (rule.verified !== undefined && rule.verified !== facts.verified) return false;
  if (rule.anonymous !== undefined && rule.anonymous !== (facts.caller === null)) return false;
  // Caller and domain conditions are about an address; anonymous callers have none.
  if (rule.caller !== undefined) {
    if (facts.caller === null) return false;
    if (rule.callerDomain !== undefined && rule.callerDomain !== callerDomain) return false;
    if (typeof rule.caller === "string" ? rule.caller !== facts.caller : !rule.caller.test(facts.caller)) return false;
  }
  if (rule.domain !== undefined && rule.domain !== callerDomain) return false;
  if (rule.domainSuffix !== undefined && !(callerDomain?.endsWith(rule.domainSuffix) ?? false)) return false;
  return true;
}

interface DayTime { weekday: number; minutes: number }

function whenMatches(rule: CompiledRule, t: DayTime): boolean {
  const today = (rule.days >> t.weekday) & 1;
  if (rule.from < 0) return today === 1;
  if (rule.from < rule.to) return today === 1 && t.minutes >= rule.from && t.minutes < rule.to;
  if (rule.from === rule.to) return false;
  // Past midnight: the evening of a listed day, or the morning after one.
  const yesterday = (rule.days >> ((t.weekday + 6) % 7)) & 1;
  return (today === 1 && t.minutes >= rule.from) || (yesterday === 1 && t.minutes < rule.to);
}

/** What happens to a call: the first matching rule, else the user's default,
 *  else the bridge's (either may ring only verified callers). */
export function decide(compiled: CompiledRules, facts: CallFacts, bridgeDefault: DefaultAction): Decision {
  const callerDomain = facts.caller === null ? undefined : domainOf(facts.caller);
  const clocks: (DayTime | undefined)[] = [];
  for (const rule of compiled.rules) {
    if (!whoMatches(rule, facts, callerDomain)) continue;
    if (rule.zone >= 0) {
      let clock = clocks[rule.zone];
      if (!clock) clock = clocks[rule.zone] = wallClock(facts.at, compiled.zones[rule.zone] as string);
      if (!whenMatches(rule, clock)) continue;
    }
    return {
      action: rule.action,
      ...(rule.forwardTo ? { forwardTo: rule.forwardTo } : {}),
      rule: rule.number,
      by: "rule",
      ...(rule.label !== undefined ? { label: rule.label } : {}),
    };
  }
  if (compiled.defaultAction !== null) return { action: defaultOutcome(compiled.defaultAction, facts), rule: null, by: "user_default" };
  return { action: defaultOutcome(bridgeDefault, facts), rule: null, by: "bridge_default" };
}

/** What a default does to this call: ring_verified rings verified callers
 *  and refuses the rest. */
export function defaultOutcome(action: DefaultAction, facts: CallFacts): "ring" | "refuse" {
  if (action === "ring_verified") return facts.verified ? "ring" : "refuse";
  return action;
}
