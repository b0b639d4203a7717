import Ajv2020 from "ajv/dist/2020";
import { ruleProblems, ruleSchema, rulesProblems, rulesSchema } from "../../src/rules/schema";

describe("rule schema", () => {
  it.each([
    { action: "ring" },
    { action: "refuse", anonymous: true },
    { action: "forward", forwardTo: "alice@hello.com", caller: "*@employer.com", verified: false },
    { action: "ring", domain: "*.Employer.com", days: ["mon", "fri"], from: "22:00", to: "06:00", timeZone: "Europe/London" },
    { action: "ring", days: ["sat"], from: "00:00", to: "24:00", label: "all Saturday" },
    { action: "refuse", caller: "Alf?@x.org", anonymous: false },
  ])("accepts %j", (rule) => {
    expect(ruleProblems(rule)).toBeUndefined();
  });

  it.each([
    [null, "rule must be an object"],
    [[], "rule must be an object"],
    [{}, "rule.action is missing"],
    [{ action: "hop" }, "rule.action must be one of ring, refuse, forward"],
    [{ action: "ring", colour: "red" }, "rule.colour is not a rule field"],
    [{ action: "forward" }, "rule.forwardTo is needed when the action is \"forward\""],
    [{ action: "ring", forwardTo: "alice@hello.com" }, "rule.forwardTo is only allowed when the action is \"forward\""],
    [{ action: "ring", from: "09:00" }, "rule.from needs rule.to"],
    [{ action: "ring", to: "17:00" }, "rule.to needs rule.from"],
    [{ action: "ring", from: "24:00", to: "17:00" }, "rule.from \"24:00\" is not a time HH:MM"],
    [{ action: "ring", from: "09:00", to: "24:01" }, "rule.to \"24:01\" is not a time HH:MM from 00:00 to 24:00"],
    [{ action: "ring", from: "9:00", to: "17:00" }, "rule.from \"9:00\""],
    [{ action: "ring", days: [] }, "rule.days must name at least one day"],
    [{ action: "ring", days: ["mon", "mon"] }, "rule.days names a day twice"],
    [{ action: "ring", days: ["monday"] }, "rule.days[0] must be one of mon, tue"],
    [{ action: "ring", caller: "" }, "rule.caller must be 1–512 characters"],
    [{ action: "ring", caller: "x".repeat(513) }, "rule.caller must be 1–512 characters"],
    [{ action: "ring", label: "x".repeat(65) }, "rule.label must be 1–64 characters"],
    [{ action: "ring", label: "" }, "rule.label must be 1–64 characters"],
    [{ action: "ring", domain: "employer..com" }, "rule.domain \"employer..com\" is not a domain"],
    [{ action: "ring", domain: "*employer.com" }, "rule.domain"],
    [{ action: "ring", verified: "yes" }, "rule.verified must be a boolean"],
  ])("refuses %j: %s", (rule, message) => {
    expect(ruleProblems(rule)).toContain(message);
  });

  it.each([
    [{ action: "ring", timeZone: "Mars/Olympus" }, "rule.timeZone \"Mars/Olympus\" is not an IANA time zone"],
    [{ action: "forward", forwardTo: "alice" }, "rule.forwardTo \"alice\" is not an address"],
    [{ action: "forward", forwardTo: "alice@hello..com" }, "rule.forwardTo \"alice@hello..com\" is not an address"],
    [{ action: "ring", from: "09:00", to: "09:00" }, "rule.from and rule.to are both \"09:00\""],
    [{ action: "ring", caller: "*@" }, "rule.caller \"*@\" is not an address or a pattern"],
    [{ action: "ring", caller: "alf" }, "rule.caller \"alf\""],
    [{ action: "ring", caller: "@employer.com" }, "rule.caller \"@employer.com\""],
    [{ action: "ring", anonymous: true, caller: "alf@x.org" }, "rule.caller could never match"],
  ])("finds the semantic problem in %j", (rule, message) => {
    expect(ruleProblems(rule)).toContain(message);
  });

  it("names the rule in a list by index", () => {
    expect(rulesProblems([{ action: "ring" }, { action: "ring", timeZone: "Nowhere/Special" }]))
      .toBe("rules[1].timeZone \"Nowhere/Special\" is not an IANA time zone (like Europe/London)");
    expect(rulesProblems({})).toBe("rules must be an array");
    expect(rulesProblems([])).toBeUndefined();
  });

  it("is a valid draft 2020-12 schema that a fresh validator agrees with", () => {
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema(ruleSchema);
    const validate = ajv.compile(rulesSchema);
    expect(validate([{ action: "ring" }, { action: "forward", forwardTo: "a@b.org" }])).toBe(true);
    expect(validate([{ action: "forward" }])).toBe(false);
  });
});
