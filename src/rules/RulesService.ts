import { setTimeout as sleep } from "node:timers/promises";
import { KeyedMutex } from "../util/KeyedMutex";
import { DomainError } from "../errors/DomainError";
import { MatrixUserId } from "../ids/matrix";
import { Store } from "../store/Store";
import { applyEdit } from "./edit";
import { CompiledRules, compileRules, decide } from "./evaluate";
import { LruCache } from "../util/LruCache";
import { rulesProblems } from "./schema";
import { CallFacts, DEFAULT_ACTIONS, Decision, DefaultAction, RuleEdit, RuleError, UserRules } from "../model/rules";
import { normalTimeZone } from "./zone";

/**
 * The one place a user's rules are read and changed. Bot commands, the
 * provisioning API and the call core all come through here, so:
 *  - every change is a compare-and-set on the stored version, and an edit
 *    that loses a race is re-applied to the rules that won (nothing is lost);
 *  - the compiled rules of recent callees stay in memory, because `decide`
 *    runs for every arriving call, and a save refreshes them at once.
 */

export interface RulesServiceOptions {
  /** Most rules one user may have (config rules.maxRulesPerUser). */
  maxRules: number;
  /** Zone for users who chose none (config rules.defaultTimeZone). */
  defaultTimeZone: string;
  /** What happens when no rule matches and the user chose no default (config rules.defaultAction). */
  bridgeDefault: DefaultAction;
  /** Users whose compiled rules are kept in memory; default 10 000. */
  cacheSize?: number;
  /** How long a cached user is trusted before the store is read again; default 60 s.
   *  This bounds how long a change saved by another bridge instance goes unseen;
   *  changes made through this service take effect on the next call regardless. */
  cacheTtlMs?: number;
  /** Attempts of one edit that keeps losing races to other instances; default 10. */
  maxEditAttempts?: number;
}

/** What `replace` writes: the whole of a user's choices. */
export type RulesReplacement = Pick<UserRules, "rules" | "defaultAction" | "timeZone" | "notifyRefused">;

interface Entry {
  rules: UserRules;
  compiled: CompiledRules;
  loadedAt: number;
}

const USER_DEFAULTS: readonly (DefaultAction | null)[] = [...DEFAULT_ACTIONS, null];

function neverSaved(userId: MatrixUserId): UserRules {
  return { userId, rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 0 };
}

/** Cached records are shared by every caller of get(): freeze them so no
 *  caller can change what the next call is decided by. */
function frozen(rules: UserRules): UserRules {
  for (const rule of rules.rules) {
    if (rule.days) Object.freeze(rule.days);
    Object.freeze(rule);
  }
  Object.freeze(rules.rules);
  return Object.freeze(rules);
}

export function rulesConflict(): DomainError {
  return new DomainError("WEBCALL_RULES_CONFLICT", "someone else changed these rules; reload and try again");
}

export class RulesService {
  private readonly cache: LruCache<MatrixUserId, Entry>;
  /** Loads in flight, so concurrent calls to one uncached user read the store once. */
  private readonly loading = new Map<MatrixUserId, Promise<Entry>>();
  /** Edits of one user from this process run one at a time; the version check
   *  is then only ever lost to another bridge instance. */
  private readonly edits = new KeyedMutex();
  private readonly ttlMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly store: Store, private readonly opts: RulesServiceOptions) {
    this.cache = new LruCache(opts.cacheSize ?? 10_000);
    this.ttlMs = opts.cacheTtlMs ?? 60_000;
    this.maxAttempts = opts.maxEditAttempts ?? 10;
  }

  /** The user's rules (version 0 and no rules for users who never saved any).
   *  The record is shared and frozen. */
  async get(userId: MatrixUserId): Promise<UserRules> {
    return (await this.entry(userId)).rules;
  }

  /** What happens to a call to `userId`; served from memory for recent callees. */
  async decide(userId: MatrixUserId, facts: CallFacts): Promise<Decision> {
    return decide((await this.entry(userId)).compiled, facts, this.opts.bridgeDefault);
  }

  /** The zone the user's rules and times are read in when a rule names none. */
  timeZoneOf(user: UserRules): string {
    return user.timeZone ?? this.opts.defaultTimeZone;
  }

  /** Applies an edit (or several, all or none) to the current rules and saves
   *  the result. Throws RuleError when an edit does not apply (the message is
   *  for the user). */
  edit(userId: MatrixUserId, edit: RuleEdit | readonly RuleEdit[]): Promise<UserRules> {
    const edits: readonly RuleEdit[] = Array.isArray(edit) ? edit : [edit as RuleEdit];
    const limits = { maxRules: this.opts.maxRules };
    return this.edits.run(userId, async () => {
      for (let attempt = 1; ; attempt++) {
        const current = await this.read(userId);
        const next = edits.reduce((rules, one) => applyEdit(rules, one, limits), current);
        const saved = await this.save(userId, next, current.version);
        if (saved) return saved;
        // Another instance saved in between: apply the edit to what it saved.
        if (attempt >= this.maxAttempts) {
          throw new DomainError("WEBCALL_RULES_CONFLICT", "these rules are being changed elsewhere at this moment; try again");
        }
        await sleep(Math.random() * 5 * attempt);
      }
    });
  }

  /** Replaces everything the user chose, if the stored version is still
   *  `ifVersion` (what the writer read); otherwise 409 WEBCALL_RULES_CONFLICT.
   *  Throws RuleError naming the first invalid part. */
  replace(userId: MatrixUserId, next: RulesReplacement, ifVersion: number): Promise<UserRules> {
    const problem = this.replacementProblem(next);
    if (problem) return Promise.reject(new RuleError(problem.message, problem.part));
    // Stored as `edit` would store it: europe/london → Europe/London.
    const timeZone = next.timeZone === null ? null : normalTimeZone(next.timeZone) ?? next.timeZone;
    return this.edits.run(userId, async () => {
      const current = await this.read(userId);
      if (current.version !== ifVersion) throw rulesConflict();
      const saved = await this.save(userId, { ...next, timeZone }, ifVersion);
      if (!saved) throw rulesConflict();
      return saved;
    });
  }

  private replacementProblem(next: RulesReplacement): { message: string; part: string } | undefined {
    const rulesProblem = rulesProblems(next.rules);
    if (rulesProblem) return { message: rulesProblem, part: "rules" };
    if (next.rules.length > this.opts.maxRules) {
      return { message: `rules has ${next.rules.length} rules; at most ${this.opts.maxRules} are allowed`, part: "rules" };
    }
    if (!USER_DEFAULTS.includes(next.defaultAction)) {
      return { message: "defaultAction must be ring, refuse, ring_verified or null (the bridge's default)", part: "defaultAction" };
    }
    if (next.timeZone !== null && (typeof next.timeZone !== "string" || normalTimeZone(next.timeZone) === undefined)) {
      return { message: `timeZone ${JSON.stringify(next.timeZone)} is not an IANA time zone (like Europe/London)`, part: "timeZone" };
    }
    if (typeof next.notifyRefused !== "boolean") return { message: "notifyRefused must be true or false", part: "notifyRefused" };
    return undefined;
  }

  /** The stored rules, bypassing the cache (edits start from the latest). */
  private async read(userId: MatrixUserId): Promise<UserRules> {
    return (await this.store.getUserRules(userId)) ?? neverSaved(userId);
  }

  /** Saves over `expectedVersion`; the saved record (now cached), or
   *  undefined when another save came first. */
  private async save(userId: MatrixUserId, next: RulesReplacement, expectedVersion: number): Promise<UserRules | undefined> {
    const record: UserRules = { ...pick(next), userId, version: expectedVersion + 1 };
    if (!(await this.store.saveUserRules(record, expectedVersion))) return undefined;
    this.remember(record);
    return record;
  }

  /** The cached entry; past its TTL it is still used for this call while a
   *  fresh read runs (changes from other instances show within a TTL and a
   *  call, and no call waits for the store once the user is cached). */
  private async entry(userId: MatrixUserId): Promise<Entry> {
    const cached = this.cache.get(userId);
    if (cached && Date.now() - cached.loadedAt < this.ttlMs) return cached;
    let load = this.loading.get(userId);
    if (!load) {
      load = this.read(userId).then((rules) => this.remember(rules)).finally(() => this.loading.delete(userId));
      this.loading.set(userId, load);
    }
    if (cached) {
      load.catch(() => undefined);
      return cached;
    }
    return load;
  }

  /** Caches a record unless a newer one is cached already: a load that
   *  started before a save may finish after it, and must not undo it. */
  private remember(rules: UserRules): Entry {
    const cached = this.cache.get(rules.userId);
    if (cached && cached.rules.version > rules.version) return cached;
    if (cached && cached.rules.version === rules.version) {
      // Unchanged: keep the compiled rules, only the freshness moves on.
      cached.loadedAt = Date.now();
      return cached;
    }
    const entry: Entry = { rules: frozen(rules), compiled: compileRules(rules), loadedAt: Date.now() };
    this.cache.set(rules.userId, entry);
    return entry;
  }
}

/** Exactly the chosen fields, so nothing else a caller passes is saved. */
function pick(rules: RulesReplacement): RulesReplacement {
  return { rules: rules.rules, defaultAction: rules.defaultAction, timeZone: rules.timeZone, notifyRefused: rules.notifyRefused };
}
