/**
 * Rule evaluation with 1,000 rules for one user (target: under 1 ms per call
 * decision). The rules are a realistic mix (exact addresses, `*@domain` and
 * other globs, domains, `*.domain`, anonymous, verified, day and time windows
 * in several IANA zones; ring, refuse and forward), and none of them matches
 * the test caller, so a decision checks every rule before the default
 * applies. Timed:
 *  - `decide` on the compiled rules (pure, what every call costs once cached);
 *  - `RulesService.decide` with the cache warm, on a real store;
 *  - a cold decision (cache miss: the store read, compiling, caching);
 *  - for contrast, the same rules with the first one matching the caller.
 */
import { Address } from "../src/ids/address";
import { MatrixUserId } from "../src/ids/matrix";
import { compileRules, decide } from "../src/rules/evaluate";
import { RulesService } from "../src/rules/RulesService";
import { rulesProblems } from "../src/rules/schema";
import { CallFacts, Rule, RuleAction, UserRules, WEEKDAYS } from "../src/model/rules";
import { wallClock } from "../src/rules/zone";
import { openStore, OpenStoreOptions } from "../src/store";
import { Stats, timeAsync, timeSync } from "./stats";

export const RULE_COUNT = 1000;
/** The caller every bench call comes from. */
export const BENCH_CALLER = "alf@employer.com";

const ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "UTC"];
const ACTIONS: readonly RuleAction[] = ["ring", "refuse", "forward"];
const WINDOWS: readonly [string, string][] = [["09:00", "17:30"], ["22:00", "07:00"], ["12:00", "13:00"], ["18:00", "24:00"], ["00:00", "08:00"]];

/**
 * `count` rules, none of which matches `caller` (a caller with an address, in
 * a domain other than the ones below; unverified unless `verified`) at any
 * moment within a day of `at`: the day/time windows are on days other than
 * yesterday, today and tomorrow in their zone, so a run that crosses midnight
 * still matches none. The rules on verification ask for the opposite of what
 * the caller is. Throws if a rule is invalid or one matches after all.
 */
export function manyRules(count: number, caller: string, at: number, verified = false): Rule[] {
  const callerDomain = caller.slice(caller.lastIndexOf("@") + 1);
  const rules: Rule[] = [];
  for (let i = 0; i < count; i++) {
    const round = Math.floor(i / 12);
    const action = ACTIONS[round % ACTIONS.length]!;
    const zone = ZONES[round % ZONES.length]!;
    const today = wallClock(at, zone).weekday;
    const farDays = WEEKDAYS.filter((_, d) => d !== today && d !== (today + 1) % 7 && d !== (today + 6) % 7);
    const [from, to] = WINDOWS[round % WINDOWS.length]!;
    const when = { days: farDays.slice(round % 3), from, to, ...(zone === "UTC" ? {} : { timeZone: zone }) };
    let who: Partial<Rule>;
    switch (i % 12) {
      case 0: who = { caller: `contact${i}@partner${i % 40}.com` }; break;
      case 1: who = { caller: `*@spam${i}.biz` }; break;
      case 2: who = { caller: `team${i}-*@${callerDomain}` }; break; // same domain: the RegExp runs
      case 3: who = { domain: `partner${i}.org` }; break;
      case 4: who = { domain: `*.supplier${i}.net` }; break;
      case 5: who = { anonymous: true, ...when }; break;
      case 6: who = { verified: !verified }; break;
      case 7: who = { anonymous: false, ...when }; break; // who matches: the zone's clock is read
      case 8: who = { ...when }; break; // no who condition: the clock is read
      case 9: who = { caller: `*@*.marketing${i}.net` }; break;
      case 10: who = { caller: `boss${i}@${callerDomain}`, ...when }; break;
      default: who = { domain: `client${i}.io`, verified: false, ...when }; break;
    }
    rules.push({
      ...who,
      action,
      ...(action === "forward" ? { forwardTo: `desk${i}@office.example.net` } : {}),
      ...(i % 5 === 0 ? { label: `rule ${i + 1}` } : {}),
    });
  }
  const problem = rulesProblems(rules);
  if (problem) throw new Error(`bench rules are invalid: ${problem}`);
  for (const t of [at, at + 3_600_000]) {
    const decision = decide(compileRules(userRules("@check:bench" as MatrixUserId, rules)), { caller: caller as Address, verified, at: t }, "ring");
    if (decision.by === "rule") throw new Error(`bench rule ${decision.rule} matches ${caller}`);
  }
  return rules;
}

/** The same rules with the first one replaced by one that matches `caller`. */
export function firstMatching(rules: Rule[], caller: string): Rule[] {
  return [{ caller, action: "ring", label: "first" }, ...rules.slice(1)];
}

export function userRules(userId: MatrixUserId, rules: Rule[]): UserRules {
  return { userId, rules, defaultAction: null, timeZone: null, notifyRefused: false, version: 1 };
}

export interface RulesReport {
  store: string;
  count: number;
  zones: number;
  pure: Stats;
  warm: Stats;
  cold: Stats;
  storeRead: Stats;
  compile: Stats;
  pureFirst: Stats;
  warmFirst: Stats;
}

/** Runs in this process, on its own store (the bridge's database, once the bridge has stopped). */
export async function measureRules(opts: { storeName: string; store: OpenStoreOptions; pureIterations?: number; warmIterations?: number; coldIterations?: number }): Promise<RulesReport> {
  const pureN = opts.pureIterations ?? 20_000, warmN = opts.warmIterations ?? 10_000, coldN = opts.coldIterations ?? 500;
  const caller = BENCH_CALLER as Address;
  const facts = (): CallFacts => ({ caller, verified: false, at: Date.now() });
  const rules = manyRules(RULE_COUNT, caller, Date.now());
  const first = firstMatching(rules, caller);
  const user = "@rules-bench:example.org" as MatrixUserId, userFirst = "@rules-bench-first:example.org" as MatrixUserId;

  const compiled = compileRules(userRules(user, rules));
  const compiledFirst = compileRules(userRules(userFirst, first));
  const pure = timeSync(2_000, pureN, () => decide(compiled, facts(), "ring"));
  const pureFirst = timeSync(2_000, pureN, () => decide(compiledFirst, facts(), "ring"));

  const store = await openStore(opts.store);
  try {
    const serviceOptions = { maxRules: RULE_COUNT, defaultTimeZone: "UTC", bridgeDefault: "ring" as const };
    // Saved as the provisioning API saves them (validated, then stored and cached).
    const service = new RulesService(store, serviceOptions);
    const settings = { defaultAction: null, timeZone: null, notifyRefused: false };
    await service.replace(user, { rules, ...settings }, 0);
    await service.replace(userFirst, { rules: first, ...settings }, 0);
    for (const [id, expected] of [[user, "bridge_default"], [userFirst, "rule"]] as const) {
      const decision = await service.decide(id, facts());
      if (decision.by !== expected) throw new Error(`${id}: decided by ${decision.by}, expected ${expected}`);
    }
    const warm = await timeAsync(1_000, warmN, () => service.decide(user, facts()));
    const warmFirst = await timeAsync(1_000, warmN, () => service.decide(userFirst, facts()));

    // Cache miss on every call: a fresh service each time reads the store and compiles.
    const cold = await timeAsync(50, coldN, () => new RulesService(store, serviceOptions).decide(user, facts()));
    const storeRead = await timeAsync(50, coldN, () => store.getUserRules(user));
    const stored = (await store.getUserRules(user))!;
    const compile = timeSync(50, coldN, () => compileRules(stored));
    return { store: opts.storeName, count: RULE_COUNT, zones: compiled.zones.length, pure, warm, cold, storeRead, compile, pureFirst, warmFirst };
  } finally {
    await store.close();
  }
}

const us = (v: number): string => `${(v * 1000).toFixed(1)} µs`;
const msOf = (v: number): string => `${v.toFixed(2)} ms`;

export function rulesReportLines(r: RulesReport): string[] {
  const line = (label: string, s: Stats, unit: (v: number) => string, note = "") =>
    `  ${label.padEnd(40)} median ${unit(s.median).padStart(9)}   p99 ${unit(s.p99).padStart(9)}${note ? `   ${note}` : ""}`;
  return [
    `rule evaluation: ${r.count.toLocaleString("en-US")} rules for one callee (exact, globs, domains, *.domains, anonymous, verified, windows in ${r.zones} zones;`,
    `  ring/refuse/forward), none matching the caller, so every rule is checked before the default`,
    line("decide, compiled rules (pure)", r.pure, us, "(target < 1 ms)"),
    line("RulesService.decide, cache warm", r.warm, us, "(target < 1 ms)"),
    line("cold: cache miss (store read + compile)", r.cold, msOf, `(${r.store}; a callee's first call, or after eviction)`),
    line("  of which the store read", r.storeRead, msOf),
    line("  of which compileRules", r.compile, msOf),
    line("first rule matching: pure", r.pureFirst, us),
    line("first rule matching: service, warm", r.warmFirst, us),
  ];
}
