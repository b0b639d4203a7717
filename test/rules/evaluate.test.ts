import { compileRules, decide } from "../../src/rules/evaluate";
import { CallFacts, Rule } from "../../src/model/rules";
import { call, userRules } from "./fixtures";

/** The decision for one call under the given rules. */
function decision(rules: Rule[], facts = call("alf@employer.com", "2026-11-23T10:00Z"), more = {}) {
  return decide(compileRules(userRules(rules, more)), facts, "refuse");
}
/** The 1-based rule that fires, or null. */
const fired = (rules: Rule[], facts = call("alf@employer.com", "2026-11-23T10:00Z")) => decision(rules, facts).rule;

describe("deciding a call", () => {
  describe("work hours in Europe/London", () => {
    const workHours: Rule[] = [{ action: "ring", days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:00", timeZone: "Europe/London" }];
    it.each([
      ["Monday 10:00 in winter (GMT)", "2026-11-23T10:00Z", 1],
      ["Monday 20:00 in winter", "2026-11-23T20:00Z", null],
      ["Monday 10:00 in summer (BST)", "2026-06-22T09:00Z", 1],
      ["Monday 08:30 local in summer, 07:30 UTC", "2026-06-22T07:30Z", null],
      ["Monday 16:30 local in summer, 15:30 UTC", "2026-06-22T15:30Z", 1],
      ["Monday 17:00 local: the end is excluded", "2026-06-22T16:00Z", null],
      ["Monday 09:00 local: the start is included", "2026-06-22T08:00Z", 1],
      ["Monday 20:00 in summer", "2026-06-22T19:00Z", null],
      ["Saturday 10:00 in summer", "2026-06-27T09:00Z", null],
      ["Saturday 20:00 in summer", "2026-06-27T19:00Z", null],
    ])("%s", (_, iso, rule) => {
      expect(fired(workHours, call("alf@employer.com", iso))).toBe(rule);
    });
  });

  describe("on a daylight-saving day", () => {
    // 2026-03-29, Europe/London: 00:59 GMT is followed by 02:00 BST.
    const earlySunday: Rule[] = [{ action: "refuse", days: ["sun"], from: "02:00", to: "03:00", timeZone: "Europe/London" }];
    it("reads the clock after the change with the new offset", () => {
      expect(fired(earlySunday, call("alf@employer.com", "2026-03-29T01:30Z"))).toBe(1); // 02:30 BST
      expect(fired(earlySunday, call("alf@employer.com", "2026-03-29T02:00Z"))).toBeNull(); // 03:00 BST
      expect(fired(earlySunday, call("alf@employer.com", "2026-03-29T00:59Z"))).toBeNull(); // 00:59 GMT
    });
    it("matches both passes through a repeated hour", () => {
      // 2026-10-25: 01:00-02:00 happens twice in London.
      const rule: Rule[] = [{ action: "refuse", days: ["sun"], from: "01:00", to: "02:00", timeZone: "Europe/London" }];
      expect(fired(rule, call("alf@employer.com", "2026-10-25T00:30Z"))).toBe(1); // 01:30 BST
      expect(fired(rule, call("alf@employer.com", "2026-10-25T01:30Z"))).toBe(1); // 01:30 GMT
      expect(fired(rule, call("alf@employer.com", "2026-10-25T02:30Z"))).toBeNull();
    });
  });

  describe("a window past midnight", () => {
    const nights: Rule[] = [{ action: "refuse", days: ["fri"], from: "22:00", to: "06:00" }];
    it.each([
      ["Friday 23:00", "2026-11-27T23:00Z", 1],
      ["Friday 22:00", "2026-11-27T22:00Z", 1],
      ["Saturday 05:59, the morning after", "2026-11-28T05:59Z", 1],
      ["Saturday 06:00", "2026-11-28T06:00Z", null],
      ["Saturday 23:00", "2026-11-28T23:00Z", null],
      ["Friday 05:00 (Thursday is not listed)", "2026-11-27T05:00Z", null],
      ["Friday 21:59", "2026-11-27T21:59Z", null],
    ])("%s", (_, iso, rule) => {
      expect(fired(nights, call("alf@employer.com", iso))).toBe(rule);
    });
    it("wraps every night when no days are given, and Sunday night runs into Monday", () => {
      const everyNight: Rule[] = [{ action: "refuse", from: "22:00", to: "06:00", timeZone: "Europe/London" }];
      expect(fired(everyNight, call("alf@employer.com", "2026-11-23T03:00Z"))).toBe(1);
      expect(fired(everyNight, call("alf@employer.com", "2026-11-23T12:00Z"))).toBeNull();
      const sunday: Rule[] = [{ action: "refuse", days: ["sun"], from: "22:00", to: "06:00" }];
      expect(fired(sunday, call("alf@employer.com", "2026-11-23T03:00Z"))).toBe(1);
    });
  });

  it("treats days without times as the whole day, and 24:00 as the end of it", () => {
    expect(fired([{ action: "ring", days: ["mon"] }], call("alf@employer.com", "2026-11-23T23:59Z"))).toBe(1);
    expect(fired([{ action: "ring", days: ["tue"] }], call("alf@employer.com", "2026-11-23T23:59Z"))).toBeNull();
    expect(fired([{ action: "ring", from: "18:00", to: "24:00" }], call("alf@employer.com", "2026-11-23T23:59Z"))).toBe(1);
  });

  it("reads rules without a zone in UTC", () => {
    const rule: Rule[] = [{ action: "ring", from: "09:00", to: "10:00" }];
    expect(fired(rule, call("alf@employer.com", "2026-06-22T09:30Z"))).toBe(1);
    expect(fired(rule, call("alf@employer.com", "2026-06-22T09:30+01:00"))).toBeNull();
  });

  describe("who", () => {
    it.each([
      [{ caller: "alf@employer.com" }, "alf@employer.com", true],
      [{ caller: "alf@Employer.COM" }, "alf@employer.com", true],
      [{ caller: "Alf@employer.com" }, "alf@employer.com", false],
      [{ caller: "*@employer.com" }, "anyone.at-all@employer.com", true],
      [{ caller: "*@employer.com" }, "alf@sub.employer.com", false],
      [{ caller: "*@*.employer.com" }, "alf@sub.employer.com", true],
      [{ caller: "a?f@employer.com" }, "alf@employer.com", true],
      [{ caller: "a?f@employer.com" }, "aalf@employer.com", false],
      [{ caller: "a.f@employer.com" }, "alf@employer.com", false],
      [{ caller: "alf+*@x.org" }, "alf+news@x.org", true],
      [{ domain: "employer.com" }, "alf@EMPLOYER.com", true],
      [{ domain: "Employer.com" }, "alf@sub.employer.com", false],
      [{ domain: "*.employer.com" }, "alf@sub.employer.com", true],
      [{ domain: "*.employer.com" }, "alf@a.b.employer.com", true],
      [{ domain: "*.employer.com" }, "alf@employer.com", false],
      [{ domain: "*.employer.com" }, "alf@notemployer.com", false],
      [{ anonymous: false }, "alf@employer.com", true],
      [{ anonymous: true }, "alf@employer.com", false],
    ] as [Partial<Rule>, string, boolean][])("%j against %s: %s", (who, caller, matches) => {
      expect(fired([{ ...who, action: "refuse" }], call(caller, "2026-11-23T10:00Z"))).toBe(matches ? 1 : null);
    });

    it("matches anonymous callers only with anonymous: true or no who at all", () => {
      const anonymous = call(null, "2026-11-23T10:00Z");
      expect(fired([{ action: "refuse", anonymous: true }], anonymous)).toBe(1);
      expect(fired([{ action: "refuse", anonymous: false }], anonymous)).toBeNull();
      expect(fired([{ action: "refuse", caller: "*@*" }], anonymous)).toBeNull();
      expect(fired([{ action: "refuse", domain: "employer.com" }], anonymous)).toBeNull();
      expect(fired([{ action: "refuse" }], anonymous)).toBe(1);
    });

    it("tells verified from unverified callers", () => {
      const verified = call("alf@employer.com", "2026-11-23T10:00Z", true);
      const unverified = call("alf@employer.com", "2026-11-23T10:00Z", false);
      expect(fired([{ action: "ring", verified: true }], verified)).toBe(1);
      expect(fired([{ action: "ring", verified: true }], unverified)).toBeNull();
      expect(fired([{ action: "ring", verified: false }], unverified)).toBe(1);
    });
  });

  it("lets the first matching rule decide, with its number, label and forward address", () => {
    const rules: Rule[] = [
      { action: "refuse", anonymous: true },
      { action: "forward", forwardTo: "alice@Hello.com", domain: "employer.com", label: "work" },
      { action: "ring" },
    ];
    expect(decision(rules)).toEqual({ action: "forward", forwardTo: "alice@hello.com", rule: 2, by: "rule", label: "work" });
    expect(decision(rules, call("bob@other.org", "2026-11-23T10:00Z"))).toEqual({ action: "ring", rule: 3, by: "rule" });
    expect(decision(rules, call(null, "2026-11-23T10:00Z"))).toEqual({ action: "refuse", rule: 1, by: "rule" });
  });

  it("falls back to the user's default, then the bridge's", () => {
    const never: Rule[] = [{ action: "ring", caller: "nobody@nowhere.org" }];
    expect(decision(never, undefined, { defaultAction: "ring" })).toEqual({ action: "ring", rule: null, by: "user_default" });
    expect(decision(never)).toEqual({ action: "refuse", rule: null, by: "bridge_default" });
    expect(decision([])).toEqual({ action: "refuse", rule: null, by: "bridge_default" });
  });

  describe("a default of ring verified callers only", () => {
    const never: Rule[] = [{ action: "refuse", caller: "nobody@nowhere.org" }];
    const at = "2026-11-23T10:00Z";
    const verified = call("alf@employer.com", at, true);
    const unverified = call("alf@employer.com", at, false);
    const anonymous = call(null, at);
    const bridge = (facts: CallFacts, rules: Rule[] = [], more = {}) => decide(compileRules(userRules(rules, more)), facts, "ring_verified");

    it("as the bridge's default, rings verified callers and refuses the rest", () => {
      expect(bridge(verified)).toEqual({ action: "ring", rule: null, by: "bridge_default" });
      expect(bridge(unverified)).toEqual({ action: "refuse", rule: null, by: "bridge_default" });
      expect(bridge(anonymous)).toEqual({ action: "refuse", rule: null, by: "bridge_default" });
      expect(bridge(unverified, never)).toEqual({ action: "refuse", rule: null, by: "bridge_default" });
    });

    it("as the user's own default, rings verified callers and refuses the rest, whatever the bridge's", () => {
      const own = { defaultAction: "ring_verified" } as const;
      expect(decision(never, verified, own)).toEqual({ action: "ring", rule: null, by: "user_default" });
      expect(decision(never, unverified, own)).toEqual({ action: "refuse", rule: null, by: "user_default" });
      expect(decision([], anonymous, own)).toEqual({ action: "refuse", rule: null, by: "user_default" });
      const ringing = (facts: CallFacts) => decide(compileRules(userRules([], own)), facts, "ring");
      expect(ringing(unverified)).toEqual({ action: "refuse", rule: null, by: "user_default" });
      expect(ringing(verified)).toEqual({ action: "ring", rule: null, by: "user_default" });
    });

    it("gives way to the user's own ring or refuse", () => {
      expect(bridge(unverified, [], { defaultAction: "ring" })).toEqual({ action: "ring", rule: null, by: "user_default" });
      expect(bridge(verified, [], { defaultAction: "refuse" })).toEqual({ action: "refuse", rule: null, by: "user_default" });
      expect(bridge(anonymous, [], { defaultAction: "ring" })).toEqual({ action: "ring", rule: null, by: "user_default" });
    });

    it("only decides when no rule matches", () => {
      expect(bridge(unverified, [{ action: "ring", domain: "employer.com" }])).toEqual({ action: "ring", rule: 1, by: "rule" });
      expect(bridge(verified, [{ action: "refuse", verified: true }])).toEqual({ action: "refuse", rule: 1, by: "rule" });
    });
  });

  it("never fires a stored rule it could not act on, and keeps the others' numbers", () => {
    const rules = [
      { action: "forward", forwardTo: "not an address" },
      { action: "ring", days: ["mon"], timeZone: "Mars/Olympus" },
      { action: "refuse" },
    ] as Rule[];
    expect(fired(rules)).toBe(3);
  });

  it("decides among 1,000 rules reading each zone's clock once", () => {
    const rules: Rule[] = [];
    for (let i = 0; i < 999; i++) {
      rules.push({ action: "refuse", caller: `*@domain${i}.example`, days: ["mon"], from: "09:00", to: "17:00", timeZone: "Europe/London" });
    }
    rules.push({ action: "forward", forwardTo: "alice@hello.com", days: ["mon"], from: "09:00", to: "17:00", timeZone: "Europe/London" });
    rules[500] = { action: "refuse", days: ["sun"], timeZone: "Europe/London" }; // matches anyone, but not on Monday
    const compiled = compileRules(userRules(rules));
    const formatToParts = jest.spyOn(Intl.DateTimeFormat.prototype, "formatToParts");
    try {
      const result = decide(compiled, call("alf@employer.com", "2026-11-23T10:00Z"), "ring");
      expect(result).toEqual({ action: "forward", forwardTo: "alice@hello.com", rule: 1000, by: "rule" });
      expect(formatToParts).toHaveBeenCalledTimes(1);
    } finally {
      formatToParts.mockRestore();
    }
  });
});
