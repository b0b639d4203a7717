import { RulesService } from "../../src/rules/RulesService";
import type { CreatedUser } from "../homeserver";
import { expectError, ProvisioningFixture } from "./fixture";

/** The rules routes, each as a front end uses it, with a session got from a
 *  real OpenID token. The fixture's rules service allows 5 rules per user. */

let f: ProvisioningFixture;
let alice: CreatedUser;
let bob: CreatedUser;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
  f = await ProvisioningFixture.start();
  alice = await f.hs.createUser("alice");
  bob = await f.hs.createUser("bob");
  aliceToken = await f.session(alice);
  bobToken = await f.session(bob);
});

afterAll(() => f?.stop());

const MONDAY_NOON_UTC = Date.UTC(2025, 0, 6, 12);
const work = { caller: "*@employer.com", days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:00", action: "ring", label: "work" };

/** A fresh user with a session, for tests that need a known starting point. */
async function freshUser(name: string): Promise<{ user: CreatedUser; token: string }> {
  const user = await f.hs.createUser(name);
  return { user, token: await f.session(user) };
}

describe("reading and replacing", () => {
  test("GET /v1/rules of a user who never chose anything", async () => {
    const { user, token } = await freshUser("carol");
    const reply = await f.call("GET", "/v1/rules", token);
    expect(reply).toMatchObject({ status: 200, body: { userId: user.userId, rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 0 } });
  });

  test("PUT /v1/rules replaces everything and bumps the version; a stale version gets 409", async () => {
    const { user, token } = await freshUser("dave");
    const next = { rules: [work, { anonymous: true, action: "refuse" }], defaultAction: "refuse", timeZone: "europe/berlin", notifyRefused: true };
    const first = await f.call("PUT", "/v1/rules", token, { ...next, version: 0 });
    expect(first).toMatchObject({ status: 200, body: { userId: user.userId, ...next, timeZone: "Europe/Berlin", version: 1 } });
    expect((await f.call("GET", "/v1/rules", token)).body).toEqual(first.body);

    const stale = await f.call("PUT", "/v1/rules", token, { ...next, rules: [], version: 0 });
    expectError(stale, 409, "WEBCALL_RULES_CONFLICT", /someone else changed these rules; reload and try again/);
    expect((await f.call("GET", "/v1/rules", token)).body.rules).toHaveLength(2);

    const second = await f.call("PUT", "/v1/rules", token, { rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 1 });
    expect(second.body).toEqual({ userId: user.userId, rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 2 });
  });

  test("two front ends writing from the same version: one wins, the other gets 409", async () => {
    const { token } = await freshUser("erin");
    const body = (label: string) => ({ rules: [{ action: "ring", label }], defaultAction: null, timeZone: null, notifyRefused: false, version: 0 });
    const replies = await Promise.all([f.call("PUT", "/v1/rules", token, body("a")), f.call("PUT", "/v1/rules", token, body("b"))]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
  });

  test("PUT /v1/rules errors name the field", async () => {
    const { token } = await freshUser("frank");
    const valid = { rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 0 };
    const cases: [object, RegExp][] = [
      [{ ...valid, version: undefined }, /body\.version is missing/],
      [{ ...valid, version: -1 }, /body\.version must be at least 0/],
      [{ ...valid, defaultAction: "maybe" }, /body\.defaultAction must be one of "ring", "refuse", "ring_verified", null/],
      [{ ...valid, notifyRefused: "yes" }, /body\.notifyRefused must be boolean/],
      [{ ...valid, extra: 1 }, /body\.extra is not an allowed field/],
      [{ ...valid, rules: {} }, /body\.rules must be array/],
      [{ ...valid, rules: [work, { action: "forward" }] }, /body\.rules\[1\]\.forwardTo is needed when the action is "forward"/],
      [{ ...valid, rules: [{ ...work, days: ["someday"] }] }, /body\.rules\[0\]\.days\[0\] must be one of mon/],
      [{ ...valid, rules: [{ action: "ring", timeZone: "Mars/Olympus" }] }, /body\.rules\[0\]\.timeZone "Mars\/Olympus" is not an IANA time zone/],
      [{ ...valid, timeZone: "Nowhere/Special" }, /timeZone "Nowhere\/Special" is not an IANA time zone/],
      [{ ...valid, rules: Array.from({ length: 6 }, () => ({ action: "ring" })) }, /at most 5/],
    ];
    for (const [body, message] of cases) expectError(await f.call("PUT", "/v1/rules", token, body), 400, "M_AS_BAD_VALUE", message);
    expect((await f.call("GET", "/v1/rules", token)).body.version).toBe(0);
  });
});

describe("editing", () => {
  test("POST /v1/rules adds, at the end or at a position; DELETE /v1/rules/:n removes; POST /v1/rules/move moves", async () => {
    const { token } = await freshUser("grace");
    const labels = async () => ((await f.call("GET", "/v1/rules", token)).body.rules as { label: string }[]).map((r) => r.label);
    expect((await f.call("POST", "/v1/rules", token, { rule: { action: "ring", label: "a" } })).body).toMatchObject({ version: 1, rules: [{ label: "a" }] });
    await f.call("POST", "/v1/rules", token, { rule: { action: "refuse", label: "c" } });
    expect((await f.call("POST", "/v1/rules", token, { rule: { action: "ring", label: "b" }, position: 2 })).status).toBe(200);
    expect(await labels()).toEqual(["a", "b", "c"]);
    const moved = await f.call("POST", "/v1/rules/move", token, { from: 3, to: 1 });
    expect(moved.body.rules.map((r: { label: string }) => r.label)).toEqual(["c", "a", "b"]);
    const removed = await f.call("DELETE", "/v1/rules/2", token);
    expect(removed.body).toMatchObject({ version: 5, rules: [{ label: "c" }, { label: "b" }] });
  });

  test("edits that do not apply get 400 with the reason", async () => {
    const { token } = await freshUser("heidi");
    await f.call("POST", "/v1/rules", token, { rule: { action: "ring" } });
    expectError(await f.call("DELETE", "/v1/rules/4", token), 400, "M_AS_BAD_VALUE", /no rule 4/);
    expectError(await f.call("DELETE", "/v1/rules/first", token), 400, "M_AS_BAD_VALUE", /path\.n must be a rule number/);
    expectError(await f.call("DELETE", "/v1/rules/0", token), 400, "M_AS_BAD_VALUE", /path\.n/);
    expectError(await f.call("POST", "/v1/rules/move", token, { from: 1, to: 3 }), 400, "M_AS_BAD_VALUE", /position 3/);
    expectError(await f.call("POST", "/v1/rules", token, { rule: { action: "ring" }, position: 5 }), 400, "M_AS_BAD_VALUE", /position 5/);
    for (let i = 0; i < 4; i++) await f.call("POST", "/v1/rules", token, { rule: { action: "ring" } });
    expectError(await f.call("POST", "/v1/rules", token, { rule: { action: "ring" } }), 400, "M_AS_BAD_VALUE", /most allowed/);
  });

  test("edit bodies are checked against their schemas, naming the field", async () => {
    const cases: [string, string, object, RegExp][] = [
      ["POST", "/v1/rules", {}, /body\.rule is missing/],
      ["POST", "/v1/rules", { rule: { action: "ring" }, position: 0 }, /body\.position must be at least 1/],
      ["POST", "/v1/rules", { rule: { action: "ring", colour: "red" } }, /body\.rule\.colour is not a rule field/],
      ["POST", "/v1/rules", { rule: { action: "ring", from: "25:00", to: "26:00" } }, /body\.rule\.from "25:00" is not a time/],
      ["POST", "/v1/rules", { rule: { action: "forward", forwardTo: "not an address" } }, /body\.rule\.forwardTo "not an address" is not an address/],
      ["POST", "/v1/rules", { rule: { anonymous: true, caller: "a@b.example", action: "refuse" } }, /body\.rule\.anonymous is true/],
      ["POST", "/v1/rules/move", { from: 1 }, /body\.to is missing/],
      ["POST", "/v1/rules/move", { from: "1", to: 2 }, /body\.from must be integer/],
      ["PUT", "/v1/settings", {}, /body must set at least one of defaultAction, timeZone, notifyRefused/],
      ["PUT", "/v1/settings", { defaultAction: "forward" }, /body\.defaultAction must be one of "ring", "refuse", "ring_verified", null/],
      ["PUT", "/v1/settings", { defaultAction: "verified" }, /body\.defaultAction must be one of/],
      ["PUT", "/v1/settings", { timeZone: 7 }, /body\.timeZone must be string or null/],
      ["POST", "/v1/test", {}, /body\.caller is missing/],
      ["POST", "/v1/test", { caller: "alf@employer.com", at: "now" }, /body\.at must be integer/],
      ["POST", "/v1/test", { caller: "no-at-sign" }, /body\.caller must be an address/],
    ];
    for (const [method, path, body, message] of cases) {
      expectError(await f.call(method, path, aliceToken, body), 400, "M_AS_BAD_VALUE", message);
    }
  });

  test("PUT /v1/settings sets any of the three in one save, and a bad part saves none", async () => {
    const { user, token } = await freshUser("ivan");
    const set = await f.call("PUT", "/v1/settings", token, { defaultAction: "refuse", timeZone: "america/new_york", notifyRefused: true });
    expect(set.body).toEqual({ userId: user.userId, rules: [], defaultAction: "refuse", timeZone: "America/New_York", notifyRefused: true, version: 1 });
    expect((await f.call("PUT", "/v1/settings", token, { defaultAction: null })).body).toMatchObject({ defaultAction: null, timeZone: "America/New_York", version: 2 });
    expectError(await f.call("PUT", "/v1/settings", token, { notifyRefused: false, timeZone: "Atlantis/Central" }), 400, "M_AS_BAD_VALUE", /Atlantis/);
    expect((await f.call("GET", "/v1/rules", token)).body).toMatchObject({ notifyRefused: true, version: 2 });
  });

  test("PUT /v1/settings and PUT /v1/rules accept a default of ring verified callers only", async () => {
    const { user, token } = await freshUser("ivy");
    const set = await f.call("PUT", "/v1/settings", token, { defaultAction: "ring_verified" });
    expect(set.body).toEqual({ userId: user.userId, rules: [], defaultAction: "ring_verified", timeZone: null, notifyRefused: false, version: 1 });
    expect((await f.call("GET", "/v1/rules", token)).body).toMatchObject({ defaultAction: "ring_verified", version: 1 });
    expect((await f.call("PUT", "/v1/settings", token, { defaultAction: null })).body).toMatchObject({ defaultAction: null, version: 2 });
    const replaced = await f.call("PUT", "/v1/rules", token, { rules: [work], defaultAction: "ring_verified", timeZone: null, notifyRefused: false, version: 2 });
    expect(replaced.body).toMatchObject({ rules: [work], defaultAction: "ring_verified", version: 3 });
  });

  test("edits from two places at once are all kept", async () => {
    const { user, token } = await freshUser("judy");
    const second = await f.session({ userId: user.userId, ...(await f.hs.loginNewDevice(user.userId)) }); // her other device
    const replies = await Promise.all([0, 1, 2, 3].map((i) => f.call("POST", "/v1/rules", i % 2 ? token : second, { rule: { action: "ring", label: `r${i}` } })));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await f.call("GET", "/v1/rules", token)).body).toMatchObject({ version: 4, rules: expect.arrayContaining([{ action: "ring", label: "r0" }, { action: "ring", label: "r3" }]) });
  });
});

describe("testing a call", () => {
  test("POST /v1/test says what a call would do, without ringing anyone", async () => {
    const { token } = await freshUser("ken");
    const test = (body: object) => f.call("POST", "/v1/test", token, body);
    expect((await test({ caller: "alf@employer.com", at: MONDAY_NOON_UTC })).body).toEqual({ decision: { action: "ring", rule: null, by: "bridge_default" } });
    await f.call("PUT", "/v1/rules", token, {
      rules: [work, { anonymous: true, action: "refuse" }, { verified: true, action: "forward", forwardTo: "desk@Example.NET" }],
      defaultAction: "refuse", timeZone: null, notifyRefused: false, version: 0,
    });
    expect((await test({ caller: "alf@EMPLOYER.com", at: MONDAY_NOON_UTC })).body).toEqual({ decision: { action: "ring", rule: 1, by: "rule", label: "work" } });
    expect((await test({ caller: "alf@employer.com", at: MONDAY_NOON_UTC + 6 * 3600_000 })).body.decision).toEqual({ action: "refuse", rule: null, by: "user_default" });
    expect((await test({ caller: null })).body.decision).toMatchObject({ action: "refuse", rule: 2 });
    expect((await test({ caller: "x@elsewhere.example", verified: true })).body.decision).toEqual({ action: "forward", forwardTo: "desk@example.net", rule: 3, by: "rule" });
    expect((await test({ caller: "x@elsewhere.example" })).body.decision.by).toBe("user_default");
  });
});

describe("ringing verified callers only", () => {
  test("a user's own default of ring_verified rings verified callers and refuses the rest", async () => {
    const { token } = await freshUser("liam");
    await f.call("PUT", "/v1/settings", token, { defaultAction: "ring_verified" });
    const test = async (body: object) => (await f.call("POST", "/v1/test", token, { at: MONDAY_NOON_UTC, ...body })).body.decision;
    expect(await test({ caller: "alf@employer.com", verified: true })).toEqual({ action: "ring", rule: null, by: "user_default" });
    expect(await test({ caller: "alf@employer.com", verified: false })).toEqual({ action: "refuse", rule: null, by: "user_default" });
    expect(await test({ caller: "alf@employer.com" })).toEqual({ action: "refuse", rule: null, by: "user_default" });
    expect(await test({ caller: null })).toEqual({ action: "refuse", rule: null, by: "user_default" });
    // A rule still decides first.
    await f.call("POST", "/v1/rules", token, { rule: { domain: "employer.com", action: "ring" } });
    expect(await test({ caller: "alf@employer.com" })).toEqual({ action: "ring", rule: 1, by: "rule" });
  });

  test("a bridge default of ring_verified applies to users without their own, and their own overrides it", async () => {
    const strict = new RulesService(f.store, { maxRules: 5, defaultTimeZone: "UTC", bridgeDefault: "ring_verified" });
    const base = await f.listen({}, strict);
    const { token } = await freshUser("mia");
    const test = async (body: object) => (await f.call("POST", "/v1/test", token, { at: MONDAY_NOON_UTC, ...body }, base)).body.decision;
    expect(await test({ caller: "alf@employer.com", verified: true })).toEqual({ action: "ring", rule: null, by: "bridge_default" });
    expect(await test({ caller: "alf@employer.com" })).toEqual({ action: "refuse", rule: null, by: "bridge_default" });
    expect(await test({ caller: null })).toEqual({ action: "refuse", rule: null, by: "bridge_default" });
    await f.call("PUT", "/v1/settings", token, { defaultAction: "ring" }, base);
    expect(await test({ caller: "alf@employer.com" })).toEqual({ action: "ring", rule: null, by: "user_default" });
  });
});

describe("scope", () => {
  test("a session reads and changes only its own user's rules", async () => {
    await f.call("POST", "/v1/rules", aliceToken, { rule: { action: "refuse", label: "alice's" } });
    const bobs = await f.call("GET", "/v1/rules", bobToken);
    expect(bobs.body).toMatchObject({ userId: bob.userId, rules: [] });
    const alices = await f.call("GET", "/v1/rules", aliceToken);
    expect(alices.body).toMatchObject({ userId: alice.userId, rules: [{ label: "alice's" }] });
    // Bob cannot reach alice's rules, whatever he sends.
    expectError(await f.call("POST", "/v1/rules", bobToken, { rule: { action: "ring" }, userId: alice.userId }), 403, "M_FORBIDDEN", /own user/);
    expectError(await f.call("PUT", "/v1/rules", bobToken, { ...alices.body, rules: [] }), 403, "M_FORBIDDEN");
    expectError(await f.call("DELETE", "/v1/rules/1", bobToken), 400, "M_AS_BAD_VALUE", /no rule 1/);
    // A user id in the query is not a way in either: the write is bob's own.
    const query = await f.call("PUT", `/v1/rules?userId=${encodeURIComponent(alice.userId)}`, bobToken,
      { rules: [], defaultAction: "refuse", timeZone: null, notifyRefused: false, version: bobs.body.version });
    expect(query.body).toMatchObject({ userId: bob.userId, defaultAction: "refuse" });
    expect((await f.call("GET", "/v1/rules", aliceToken)).body).toEqual(alices.body);
  });
});
