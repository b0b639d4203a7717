import { Address } from "../../src/ids/address";
import { MatrixUserId } from "../../src/ids/matrix";
import { newPartyId } from "../../src/ids/session";
import { DomainError } from "../../src/errors/DomainError";
import { httpAnswer } from "../../src/errors/httpAnswer";
import { RulesService, RulesServiceOptions } from "../../src/rules/RulesService";
import { CallFacts, Rule, RuleError, UserRules } from "../../src/model/rules";
import { openStore, Store } from "../../src/store";
import { pgliteEngine, TestDatabase } from "../store/engines";

/** RulesService over a real (PGlite) store. One database for the file; every
 *  test uses fresh users. */

const engine = pgliteEngine();
let db: TestDatabase;
let store: Store;

beforeAll(async () => {
  db = await engine.create();
  store = await openStore(db.options);
});

afterAll(async () => {
  await store?.close();
  await engine.dispose();
});

const newUser = () => `@u${newPartyId().replace(/[^A-Za-z0-9]/g, "x").toLowerCase()}:example.org` as MatrixUserId;
const from = (caller: string | null): CallFacts => ({ caller: caller as Address | null, verified: false, at: Date.UTC(2025, 0, 6, 12) });
const OPTIONS: RulesServiceOptions = { maxRules: 50, defaultTimeZone: "Europe/Berlin", bridgeDefault: "ring" };

/** The store, with the number of rule reads counted and saves optionally intercepted. */
function instrumented(base: Store, beforeSave?: (next: UserRules, expected: number) => Promise<boolean | void>) {
  const counts = { reads: 0, saves: 0 };
  const wrapped = new Proxy(base, {
    get(target, key, receiver) {
      if (key === "getUserRules") {
        return (userId: MatrixUserId) => { counts.reads++; return target.getUserRules(userId); };
      }
      if (key === "saveUserRules") {
        return async (next: UserRules, expected: number) => {
          counts.saves++;
          const forced = await beforeSave?.(next, expected);
          return typeof forced === "boolean" ? forced : target.saveUserRules(next, expected);
        };
      }
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: wrapped, counts };
}

describe("reading", () => {
  test("a user who never saved gets empty rules at version 0, and the bridge default decides", async () => {
    const service = new RulesService(store, OPTIONS);
    const userId = newUser();
    expect(await service.get(userId)).toEqual({ userId, rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 0 });
    expect(await service.decide(userId, from("alf@employer.com"))).toEqual({ action: "ring", rule: null, by: "bridge_default" });
    expect(await new RulesService(store, { ...OPTIONS, bridgeDefault: "refuse" }).decide(userId, from(null)))
      .toEqual({ action: "refuse", rule: null, by: "bridge_default" });
  });

  test("a default of ring verified callers only, the bridge's or the user's own, rings only verified callers", async () => {
    const verified = (caller: string | null): CallFacts => ({ ...from(caller), verified: true });
    const strict = new RulesService(store, { ...OPTIONS, bridgeDefault: "ring_verified" });
    const userId = newUser();
    expect(await strict.decide(userId, verified("alf@employer.com"))).toEqual({ action: "ring", rule: null, by: "bridge_default" });
    expect(await strict.decide(userId, from("alf@employer.com"))).toEqual({ action: "refuse", rule: null, by: "bridge_default" });
    expect(await strict.decide(userId, from(null))).toEqual({ action: "refuse", rule: null, by: "bridge_default" });
    // Saved and read back through the store (its CHECK constraint allows it).
    const lenient = new RulesService(store, OPTIONS);
    const own = newUser();
    expect(await lenient.edit(own, { kind: "default", action: "ring_verified" })).toMatchObject({ defaultAction: "ring_verified", version: 1 });
    expect(await store.getUserRules(own)).toMatchObject({ defaultAction: "ring_verified" });
    expect(await new RulesService(store, OPTIONS).decide(own, from("alf@employer.com"))).toEqual({ action: "refuse", rule: null, by: "user_default" });
    expect(await lenient.decide(own, verified("alf@employer.com"))).toEqual({ action: "ring", rule: null, by: "user_default" });
  });

  test("timeZoneOf is the user's zone, else the bridge's", async () => {
    const service = new RulesService(store, OPTIONS);
    const user = await service.get(newUser());
    expect(service.timeZoneOf(user)).toBe("Europe/Berlin");
    expect(service.timeZoneOf({ ...user, timeZone: "America/New_York" })).toBe("America/New_York");
  });

  test("the returned record is frozen, so no caller can change what decides calls", async () => {
    const service = new RulesService(store, OPTIONS);
    const userId = newUser();
    await service.edit(userId, { kind: "add", rule: { action: "refuse" } });
    const rules = await service.get(userId);
    expect(() => (rules.rules as Rule[]).push({ action: "ring" })).toThrow(TypeError);
    expect(() => { (rules.rules[0] as Rule).action = "ring"; }).toThrow(TypeError);
    expect((await service.decide(userId, from(null))).action).toBe("refuse");
  });
});

describe("the cache", () => {
  test("decisions for a cached user read the store once, concurrent first calls included", async () => {
    const { store: counted, counts } = instrumented(store);
    const service = new RulesService(counted, OPTIONS);
    const userId = newUser();
    await Promise.all(Array.from({ length: 10 }, () => service.decide(userId, from("alf@employer.com"))));
    await service.decide(userId, from(null));
    await service.get(userId);
    expect(counts.reads).toBe(1);
  });

  test("an edit takes effect on the very next decision", async () => {
    const service = new RulesService(store, OPTIONS);
    const userId = newUser();
    expect((await service.decide(userId, from("alf@employer.com"))).action).toBe("ring");
    await service.edit(userId, { kind: "add", rule: { caller: "*@employer.com", action: "refuse", label: "work" } });
    expect(await service.decide(userId, from("alf@employer.com"))).toEqual({ action: "refuse", rule: 1, by: "rule", label: "work" });
    expect((await service.decide(userId, from("bob@other.example"))).by).toBe("bridge_default");
    await service.edit(userId, { kind: "default", action: "refuse" });
    expect(await service.decide(userId, from("bob@other.example"))).toEqual({ action: "refuse", rule: null, by: "user_default" });
    await service.replace(userId, { rules: [], defaultAction: null, timeZone: null, notifyRefused: false }, 2);
    expect((await service.decide(userId, from("alf@employer.com"))).by).toBe("bridge_default");
  });

  test("the least recently used user is forgotten first", async () => {
    const { store: counted, counts } = instrumented(store);
    const service = new RulesService(counted, { ...OPTIONS, cacheSize: 2 });
    const [a, b, c] = [newUser(), newUser(), newUser()];
    await service.get(a);
    await service.get(b);
    await service.get(a); // a is now more recent than b
    await service.get(c); // evicts b
    expect(counts.reads).toBe(3);
    await service.get(a);
    await service.get(c);
    expect(counts.reads).toBe(3);
    await service.get(b);
    expect(counts.reads).toBe(4);
  });

  test("a change saved by another instance is seen once the cache entry is older than cacheTtlMs, without a call waiting for the store", async () => {
    const userId = newUser();
    const mine = new RulesService(store, { ...OPTIONS, cacheTtlMs: 50 });
    const other = new RulesService(store, OPTIONS);
    expect((await mine.decide(userId, from(null))).action).toBe("ring");
    await other.edit(userId, { kind: "default", action: "refuse" });
    expect((await mine.decide(userId, from(null))).action).toBe("ring"); // still cached
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Past the TTL this call is decided on the cached rules while they are read again…
    expect((await mine.decide(userId, from(null))).action).toBe("ring");
    // …and the next one sees the change.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await mine.decide(userId, from(null))).action).toBe("refuse");
  });

  test("a slow load that started before a save cannot put the older rules back", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let hold = true;
    const slow = new Proxy(store, {
      get(target, key) {
        if (key === "getUserRules") {
          return async (userId: MatrixUserId) => {
            const result = await target.getUserRules(userId);
            if (hold) { hold = false; await gate; } // the first read returns late, with what it read early
            return result;
          };
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const service = new RulesService(slow, OPTIONS);
    const userId = newUser();
    const early = service.decide(userId, from(null));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await service.edit(userId, { kind: "default", action: "refuse" });
    release();
    await early;
    expect((await service.decide(userId, from(null))).action).toBe("refuse");
  });
});

describe("edits", () => {
  test("an edit saves a new version and returns it", async () => {
    const service = new RulesService(store, OPTIONS);
    const userId = newUser();
    const saved = await service.edit(userId, { kind: "add", rule: { anonymous: true, action: "refuse" } });
    expect(saved).toEqual({ userId, rules: [{ anonymous: true, action: "refuse" }], defaultAction: null, timeZone: null, notifyRefused: false, version: 1 });
    expect(await store.getUserRules(userId)).toEqual(saved);
    expect((await service.edit(userId, { kind: "notify_refused", on: true })).version).toBe(2);
  });

  test("20 parallel adds are all kept", async () => {
    const service = new RulesService(store, OPTIONS);
    const userId = newUser();
    await Promise.all(Array.from({ length: 20 }, (_, i) => service.edit(userId, { kind: "add", rule: { action: "ring", label: `r${i}` } })));
    const saved = await store.getUserRules(userId);
    expect(saved?.version).toBe(20);
    expect(saved?.rules.map((r) => r.label).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`).sort());
    expect((await service.get(userId)).version).toBe(20);
  });

  test("parallel edits from two instances on one store are all kept (lost races are re-applied)", async () => {
    const { store: counted, counts } = instrumented(store);
    const a = new RulesService(counted, OPTIONS);
    const b = new RulesService(counted, OPTIONS);
    const userId = newUser();
    await Promise.all(Array.from({ length: 16 }, (_, i) =>
      (i % 2 ? a : b).edit(userId, { kind: "add", rule: { action: "refuse", label: `r${i}` } })));
    const saved = await store.getUserRules(userId);
    expect(saved?.rules).toHaveLength(16);
    expect(saved?.version).toBe(16);
    expect(counts.saves).toBeGreaterThanOrEqual(16);
  });

  test("an edit that loses a race is applied to the rules that won", async () => {
    const userId = newUser();
    let raced = false;
    const { store: racy } = instrumented(store, async (_next, expected) => {
      if (raced) return;
      raced = true;
      // Someone else saves first, from the same version.
      await store.saveUserRules({ userId, rules: [{ action: "ring", label: "theirs" }], defaultAction: "refuse", timeZone: null, notifyRefused: false, version: 0 }, expected);
    });
    const service = new RulesService(racy, OPTIONS);
    const saved = await service.edit(userId, { kind: "add", rule: { action: "refuse", label: "mine" } });
    expect(saved.rules.map((r) => r.label)).toEqual(["theirs", "mine"]);
    expect(saved).toMatchObject({ defaultAction: "refuse", version: 2 });
  });

  test("an edit that keeps losing gives up with 409 WEBCALL_RULES_CONFLICT", async () => {
    const { store: losing, counts } = instrumented(store, async () => false);
    const service = new RulesService(losing, { ...OPTIONS, maxEditAttempts: 3 });
    const error = await service.edit(newUser(), { kind: "default", action: "refuse" }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).errcode).toBe("WEBCALL_RULES_CONFLICT");
    // The provisioning API answers it 409.
    expect(httpAnswer("provisioning", error as DomainError)?.status).toBe(409);
    expect(counts.saves).toBe(3);
  });

  test("an edit that does not apply throws RuleError and saves nothing", async () => {
    const service = new RulesService(store, { ...OPTIONS, maxRules: 1 });
    const userId = newUser();
    await expect(service.edit(userId, { kind: "remove", rule: 1 })).rejects.toBeInstanceOf(RuleError);
    await service.edit(userId, { kind: "add", rule: { action: "ring" } });
    await expect(service.edit(userId, { kind: "add", rule: { action: "refuse" } })).rejects.toBeInstanceOf(RuleError);
    expect((await store.getUserRules(userId))?.version).toBe(1);
  });
});

describe("replace", () => {
  const everything = { rules: [{ caller: "*@employer.com", action: "ring" as const }], defaultAction: "refuse" as const, timeZone: "europe/london", notifyRefused: true };

  test("replaces everything the user chose when the version matches", async () => {
    const service = new RulesService(store, OPTIONS);
    const userId = newUser();
    const first = await service.replace(userId, everything, 0);
    expect(first).toEqual({ userId, ...everything, timeZone: "Europe/London", version: 1 });
    expect(await service.get(userId)).toEqual(first);
    const second = await service.replace(userId, { rules: [], defaultAction: null, timeZone: null, notifyRefused: false }, 1);
    expect(second).toEqual({ userId, rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 2 });
  });

  test("a stale version is refused with 409 and changes nothing", async () => {
    const service = new RulesService(store, OPTIONS);
    const userId = newUser();
    await service.replace(userId, everything, 0);
    await service.edit(userId, { kind: "notify_refused", on: false });
    const conflict = service.replace(userId, { ...everything, rules: [] }, 1);
    await expect(conflict).rejects.toMatchObject({ errcode: "WEBCALL_RULES_CONFLICT" });
    await expect(conflict).rejects.toThrow(/someone else changed these rules; reload and try again/);
    await expect(service.replace(newUser(), everything, 3)).rejects.toMatchObject({ errcode: "WEBCALL_RULES_CONFLICT" });
    expect(await store.getUserRules(userId)).toMatchObject({ rules: everything.rules, version: 2 });
  });

  test("two replaces from the same version: exactly one wins", async () => {
    const a = new RulesService(store, OPTIONS);
    const b = new RulesService(store, OPTIONS);
    const userId = newUser();
    const results = await Promise.allSettled([a.replace(userId, everything, 0), b.replace(userId, { ...everything, rules: [] }, 0)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
  });

  test("invalid parts are refused with a RuleError naming them", async () => {
    const service = new RulesService(store, { ...OPTIONS, maxRules: 2 });
    const userId = newUser();
    const bad = (patch: object) => service.replace(userId, { ...everything, ...patch } as never, 0);
    await expect(bad({ rules: [{ action: "ring" }, { action: "forward" }] })).rejects.toThrow(/rules\[1\]\.forwardTo/);
    await expect(bad({ rules: [{ action: "ring", timeZone: "Mars/Base" }] })).rejects.toThrow(/rules\[0\]\.timeZone/);
    await expect(bad({ rules: [{ action: "ring" }, { action: "ring" }, { action: "ring" }] })).rejects.toThrow(/at most 2/);
    await expect(bad({ defaultAction: "maybe" })).rejects.toMatchObject({ part: "defaultAction" });
    await expect(bad({ defaultAction: "verified" })).rejects.toThrow("defaultAction must be ring, refuse, ring_verified or null (the bridge's default)");
    await expect(bad({ timeZone: "Nowhere/Else" })).rejects.toMatchObject({ part: "timeZone" });
    await expect(bad({ notifyRefused: "yes" })).rejects.toMatchObject({ part: "notifyRefused" });
    await expect(bad({ rules: "all" })).rejects.toBeInstanceOf(RuleError);
    expect(await store.getUserRules(userId)).toBeUndefined();
  });
});
