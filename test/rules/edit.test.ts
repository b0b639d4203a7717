import { applyEdit } from "../../src/rules/edit";
import { Rule, RuleEdit, RuleError, UserRules } from "../../src/model/rules";
import { userRules } from "./fixtures";

const a: Rule = { action: "refuse", anonymous: true };
const b: Rule = { action: "ring", domain: "employer.com" };
const c: Rule = { action: "forward", forwardTo: "alice@hello.com" };
const limits = { maxRules: 1000 };

function errorOf(user: UserRules, edit: RuleEdit, max = 1000): RuleError {
  try {
    applyEdit(user, edit, { maxRules: max });
  } catch (e) {
    expect(e).toBeInstanceOf(RuleError);
    return e as RuleError;
  }
  throw new Error("the edit was applied");
}

describe("applying an edit", () => {
  const three = userRules([a, b, c]);

  it("adds at the end, or at a position, without touching the original or the version", () => {
    const d: Rule = { action: "ring", verified: true };
    expect(applyEdit(three, { kind: "add", rule: d }, limits).rules).toEqual([a, b, c, d]);
    expect(applyEdit(three, { kind: "add", rule: d, position: 1 }, limits).rules).toEqual([d, a, b, c]);
    expect(applyEdit(three, { kind: "add", rule: d, position: 4 }, limits).rules).toEqual([a, b, c, d]);
    const after = applyEdit(three, { kind: "add", rule: d, position: 2 }, limits);
    expect(after.rules).toEqual([a, d, b, c]);
    expect(after.version).toBe(three.version);
    expect(three.rules).toEqual([a, b, c]);
  });

  it("refuses an invalid rule, naming the field", () => {
    const e = errorOf(three, { kind: "add", rule: { action: "ring", timeZone: "Mars/Olympus" } });
    expect(e.message).toBe("That rule can't be added: rule.timeZone \"Mars/Olympus\" is not an IANA time zone (like Europe/London).");
    expect(errorOf(three, { kind: "add", rule: { action: "forward" } as Rule }).message).toContain("rule.forwardTo is needed");
  });

  it("refuses a rule past the limit", () => {
    expect(errorOf(three, { kind: "add", rule: a }, 3).message).toContain("You already have 3 rules, the most allowed.");
    const many = userRules(Array.from({ length: 1000 }, () => a));
    expect(errorOf(many, { kind: "add", rule: a }).message).toContain("You already have 1000 rules, the most allowed.");
  });

  it.each([0, 5, 1.5, -1])("refuses to add at position %p of 3", (position) => {
    const e = errorOf(three, { kind: "add", rule: a, position });
    expect(e.message).toBe(`A new rule can't go at position ${position}: you have 3 rules, so it can go at 1 to 4.`);
    expect(e.part).toBe("position");
  });

  it("removes a rule by number", () => {
    expect(applyEdit(three, { kind: "remove", rule: 2 }, limits).rules).toEqual([a, c]);
    expect(applyEdit(three, { kind: "remove", rule: 3 }, limits).rules).toEqual([a, b]);
  });

  it.each([
    [userRules([a, b, c]), 7, "There is no rule 7: you have 3 rules."],
    [userRules([a, b, c]), 0, "There is no rule 0: you have 3 rules."],
    [userRules([a]), 2, "There is no rule 2: you have 1 rule."],
    [userRules([]), 1, "There is no rule 1: you have no rules."],
  ])("refuses to remove a rule that isn't there (%#)", (user, rule, message) => {
    expect(errorOf(user, { kind: "remove", rule }).message).toBe(message);
  });

  it("moves a rule up, down or nowhere", () => {
    expect(applyEdit(three, { kind: "move", rule: 3, to: 1 }, limits).rules).toEqual([c, a, b]);
    expect(applyEdit(three, { kind: "move", rule: 1, to: 3 }, limits).rules).toEqual([b, c, a]);
    expect(applyEdit(three, { kind: "move", rule: 1, to: 2 }, limits).rules).toEqual([b, a, c]);
    expect(applyEdit(three, { kind: "move", rule: 2, to: 2 }, limits).rules).toEqual([a, b, c]);
  });

  it("refuses a move from or to a place that isn't there", () => {
    expect(errorOf(three, { kind: "move", rule: 4, to: 1 }).message).toBe("There is no rule 4: you have 3 rules.");
    const e = errorOf(three, { kind: "move", rule: 2, to: 4 });
    expect(e.message).toBe("Rule 2 can't move to position 4: you have 3 rules.");
    expect(e.part).toBe("to");
  });

  it("sets and clears the default", () => {
    expect(applyEdit(three, { kind: "default", action: "refuse" }, limits).defaultAction).toBe("refuse");
    expect(applyEdit({ ...three, defaultAction: "ring" }, { kind: "default", action: null }, limits).defaultAction).toBeNull();
    expect(applyEdit(three, { kind: "default", action: "ring_verified" }, limits).defaultAction).toBe("ring_verified");
    expect(errorOf(three, { kind: "default", action: "forward" } as unknown as RuleEdit).message).toContain("ring, refuse, ring_verified or the bridge's");
  });

  it("sets the zone, in its proper spelling, and clears it", () => {
    expect(applyEdit(three, { kind: "timezone", timeZone: "europe/london" }, limits).timeZone).toBe("Europe/London");
    expect(applyEdit(three, { kind: "timezone", timeZone: "America/New_York" }, limits).timeZone).toBe("America/New_York");
    expect(applyEdit({ ...three, timeZone: "Europe/Paris" }, { kind: "timezone", timeZone: null }, limits).timeZone).toBeNull();
    expect(errorOf(three, { kind: "timezone", timeZone: "Mars/Olympus" }).message)
      .toBe("\"Mars/Olympus\" is not an IANA time zone; try one like Europe/London or America/New_York.");
  });

  it("turns refused-call notices on and off", () => {
    expect(applyEdit(three, { kind: "notify_refused", on: false }, limits).notifyRefused).toBe(false);
    expect(applyEdit({ ...three, notifyRefused: false }, { kind: "notify_refused", on: true }, limits).notifyRefused).toBe(true);
  });

  it("refuses an edit it doesn't know", () => {
    expect(errorOf(three, { kind: "rename" } as unknown as RuleEdit).message).toBe("There is no edit \"rename\".");
  });
});
