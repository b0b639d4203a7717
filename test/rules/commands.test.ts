import { Command, parseCommand } from "../../src/rules/commands";
import { Rule, RuleError } from "../../src/model/rules";

// Wednesday 25 November 2026, noon in London (GMT, UTC+0).
const ctx = { timeZone: "Europe/London", now: Date.parse("2026-11-25T12:00Z") };

function ruleOf(text: string, context = ctx): Rule {
  const command = parseCommand(text, context);
  if (command.kind !== "edit" || command.edit.kind !== "add") throw new Error(`not an add: ${JSON.stringify(command)}`);
  return command.edit.rule;
}

function errorOf(text: string): RuleError {
  try {
    parseCommand(text, ctx);
  } catch (e) {
    expect(e).toBeInstanceOf(RuleError);
    return e as RuleError;
  }
  throw new Error(`"${text}" was understood`);
}

const testAt = (text: string, context = ctx): number => {
  const command = parseCommand(text, context);
  if (command.kind !== "test") throw new Error("not a test");
  return command.facts.at;
};

const weekdays = ["mon", "tue", "wed", "thu", "fri"];

describe("bot commands", () => {
  it.each([
    ["help", { kind: "help" }],
    ["", { kind: "help" }],
    ["HELP", { kind: "help" }],
    ["rules", { kind: "rules" }],
    ["!webcall rules", { kind: "rules" }],
    ["!WebCall   list", { kind: "rules" }],
    ["link", { kind: "link" }],
    ["Link", { kind: "link" }],
    ["remove 3", { kind: "edit", edit: { kind: "remove", rule: 3 } }],
    ["remove rule 3", { kind: "edit", edit: { kind: "remove", rule: 3 } }],
    ["move 3 to 1", { kind: "edit", edit: { kind: "move", rule: 3, to: 1 } }],
    ["Move rule 2 TO position 5", { kind: "edit", edit: { kind: "move", rule: 2, to: 5 } }],
    ["default ring", { kind: "edit", edit: { kind: "default", action: "ring" } }],
    ["default refuse", { kind: "edit", edit: { kind: "default", action: "refuse" } }],
    ["default bridge", { kind: "edit", edit: { kind: "default", action: null } }],
    ["default verified", { kind: "edit", edit: { kind: "default", action: "ring_verified" } }],
    ["Default Ring Verified", { kind: "edit", edit: { kind: "default", action: "ring_verified" } }],
    ["default allow verified", { kind: "edit", edit: { kind: "default", action: "ring_verified" } }],
    ["default ring-verified", { kind: "edit", edit: { kind: "default", action: "ring_verified" } }],
    ["default ring_verified", { kind: "edit", edit: { kind: "default", action: "ring_verified" } }],
    ["timezone America/New_York", { kind: "edit", edit: { kind: "timezone", timeZone: "America/New_York" } }],
    ["timezone europe/paris", { kind: "edit", edit: { kind: "timezone", timeZone: "Europe/Paris" } }],
    ["timezone bridge", { kind: "edit", edit: { kind: "timezone", timeZone: null } }],
    ["notify refused on", { kind: "edit", edit: { kind: "notify_refused", on: true } }],
    ["notify Refused OFF", { kind: "edit", edit: { kind: "notify_refused", on: false } }],
  ] as [string, Command][])("reads %p", (text, command) => {
    expect(parseCommand(text, ctx)).toEqual(command);
  });

  it("link takes nothing after it", () => {
    expect(() => parseCommand("link please", ctx)).toThrow(RuleError);
  });

  describe("rules", () => {
    it.each([
      ["allow", { action: "ring" }],
      ["allow anyone", { action: "ring" }],
      ["refuse everyone", { action: "refuse" }],
      ["refuse anonymous", { action: "refuse", anonymous: true }],
      ["allow verified", { action: "ring", verified: true }],
      ["refuse unverified anonymous", { action: "refuse", anonymous: true, verified: false }],
      ["allow Alf@Employer.COM", { action: "ring", caller: "Alf@employer.com" }],
      ["allow verified alf@employer.com", { action: "ring", caller: "alf@employer.com", verified: true }],
      ["refuse *@Spam.example", { action: "refuse", caller: "*@spam.example" }],
      ["allow employer.com", { action: "ring", domain: "employer.com" }],
      ["ALLOW unverified *.Employer.com", { action: "ring", domain: "*.employer.com", verified: false }],
      ["allow on mon-fri", { action: "ring", days: weekdays, timeZone: "Europe/London" }],
      ["allow on Monday", { action: "ring", days: ["mon"], timeZone: "Europe/London" }],
      ["allow on sat-sun", { action: "ring", days: ["sat", "sun"], timeZone: "Europe/London" }],
      ["allow on weekends", { action: "ring", days: ["sat", "sun"], timeZone: "Europe/London" }],
      ["allow on weekdays", { action: "ring", days: weekdays, timeZone: "Europe/London" }],
      ["allow on mon,wed,fri", { action: "ring", days: ["mon", "wed", "fri"], timeZone: "Europe/London" }],
      ["allow on fri, Mon , wed", { action: "ring", days: ["mon", "wed", "fri"], timeZone: "Europe/London" }],
      ["allow on fri-mon", { action: "ring", days: ["mon", "fri", "sat", "sun"], timeZone: "Europe/London" }],
      ["allow on daily 09:00-17:00", { action: "ring", from: "09:00", to: "17:00", timeZone: "Europe/London" }],
      ["allow on daily", { action: "ring" }],
      ["allow 9:00 – 17:30", { action: "ring", from: "09:00", to: "17:30", timeZone: "Europe/London" }],
      ["refuse from 22:00 to 06:00", { action: "refuse", from: "22:00", to: "06:00", timeZone: "Europe/London" }],
      ["allow 18:00-24:00 in Asia/Tokyo", { action: "ring", from: "18:00", to: "24:00", timeZone: "Asia/Tokyo" }],
      ["allow on sun in utc", { action: "ring", days: ["sun"], timeZone: "UTC" }],
      ["refuse anonymous in Europe/Paris", { action: "refuse", anonymous: true }],
      ["refuse anonymous on weekends as \"no strangers\"", { action: "refuse", anonymous: true, days: ["sat", "sun"], timeZone: "Europe/London", label: "no strangers" }],
      ["allow *@employer.com On Mon-Fri From 09:00 To 17:00 In Europe/Berlin As \"work <hours>\"", {
        action: "ring", caller: "*@employer.com", days: weekdays, from: "09:00", to: "17:00", timeZone: "Europe/Berlin", label: "work <hours>" }],
    ] as [string, Rule][])("reads %p", (text, rule) => {
      expect(ruleOf(text)).toEqual(rule);
    });

    it("stores the context's zone only for rules with days or times", () => {
      expect(ruleOf("allow on mon", { ...ctx, timeZone: "Pacific/Auckland" }).timeZone).toBe("Pacific/Auckland");
      expect(ruleOf("allow verified", { ...ctx, timeZone: "Pacific/Auckland" }).timeZone).toBeUndefined();
    });

    it("stores fields in the order rules declare them", () => {
      expect(Object.keys(ruleOf("forward verified alf@x.org on mon to bob@y.org as \"l\"")))
        .toEqual(["caller", "verified", "days", "timeZone", "action", "forwardTo", "label"]);
    });
  });

  describe("forward and its two kinds of to", () => {
    it.each([
      ["forward to alice@hello.com", { action: "forward", forwardTo: "alice@hello.com" }],
      ["forward to alice@hello.com on mon-fri 09:00-17:00 in Europe/London",
        { action: "forward", forwardTo: "alice@hello.com", days: weekdays, from: "09:00", to: "17:00", timeZone: "Europe/London" }],
      ["forward alice@employer.com to alice@hello.com on weekdays from 09:00 to 17:00 in Europe/London",
        { action: "forward", caller: "alice@employer.com", forwardTo: "alice@hello.com", days: weekdays, from: "09:00", to: "17:00", timeZone: "Europe/London" }],
      ["forward from 18:00 to 08:00 to night@Desk.example",
        { action: "forward", forwardTo: "night@desk.example", from: "18:00", to: "08:00", timeZone: "Europe/London" }],
      ["forward on weekends TO to@to.example", { action: "forward", forwardTo: "to@to.example", days: ["sat", "sun"], timeZone: "Europe/London" }],
      ["forward anonymous to desk@x.org as \"to the desk\"", { action: "forward", anonymous: true, forwardTo: "desk@x.org", label: "to the desk" }],
    ] as [string, Rule][])("reads %p", (text, rule) => {
      expect(ruleOf(text)).toEqual(rule);
    });

    it("names a forward target that is not an address", () => {
      expect(errorOf("forward to alice").message)
        .toBe("I don't understand \"alice\" in \"forward to alice\": expected an address to forward to, like alice@hello.com.");
      expect(errorOf("forward to").message).toBe("\"forward to\" stops too soon: expected an address to forward to, like alice@hello.com.");
    });

    it("says when there is no target at all, even with a time range's to", () => {
      const e = errorOf("forward alf@x.org from 09:00 to 17:00");
      expect(e.message).toContain("doesn't say where to forward calls");
      expect(e.part).toBe("to");
    });
  });

  describe("test", () => {
    it("reads the caller and whether they are verified", () => {
      expect(parseCommand("test Alf@Employer.com", ctx)).toEqual({ kind: "test", facts: { caller: "Alf@employer.com", verified: false, at: ctx.now } });
      expect(parseCommand("test alf@employer.com verified", ctx)).toEqual({ kind: "test", facts: { caller: "alf@employer.com", verified: true, at: ctx.now } });
      expect(parseCommand("test anonymous at now", ctx)).toEqual({ kind: "test", facts: { caller: null, verified: false, at: ctx.now } });
    });

    it.each([
      ["10:00", "2026-11-25T10:00Z"],
      ["23:30", "2026-11-25T23:30Z"],
      ["wed 10:00", "2026-11-25T10:00Z"],
      ["mon 10:00", "2026-11-30T10:00Z"],
      ["Tuesday 08:15", "2026-12-01T08:15Z"],
      ["tomorrow 9:00", "2026-11-26T09:00Z"],
      ["2026-06-22 10:00", "2026-06-22T09:00Z"],
      ["2026-11-23T10:00+01:00", "2026-11-23T09:00Z"],
      ["2026-11-23T10:00:30Z", "2026-11-23T10:00:30Z"],
      ["2026-06-22T10:00", "2026-06-22T09:00Z"],
      ["2026-03-29 00:30", "2026-03-29T00:30Z"],
      ["2026-03-29 01:30", "2026-03-29T01:30Z"], // skipped by the clocks: read as 02:30 BST
      ["2026-03-29 02:30", "2026-03-29T01:30Z"],
      ["2026-10-25 01:30", "2026-10-25T00:30Z"], // happens twice: the first
      ["2026-10-25 02:30", "2026-10-25T02:30Z"],
      ["10:00 in America/New_York", "2026-11-25T15:00Z"],
    ])("reads at %p in London", (time, iso) => {
      expect(testAt(`test alf@x.org at ${time}`)).toBe(Date.parse(iso));
    });

    it("reads local times across a change in another zone", () => {
      const ny = { timeZone: "America/New_York", now: Date.parse("2026-03-07T12:00Z") };
      expect(testAt("test a@b.org at 2026-03-08 01:30", ny)).toBe(Date.parse("2026-03-08T06:30Z"));
      expect(testAt("test a@b.org at 2026-03-08 03:30", ny)).toBe(Date.parse("2026-03-08T07:30Z"));
      expect(testAt("test a@b.org at sun 12:00", ny)).toBe(Date.parse("2026-03-08T16:00Z"));
    });

    it.each([
      ["test alf@x.org at tomorow", "I don't understand \"tomorow\" in \"test alf@x.org at tomorow\": expected a time like 10:00, mon 10:00 or 2026-11-23 10:00."],
      ["test alf@x.org at", "\"test alf@x.org at\" stops too soon: expected a time like 10:00, mon 10:00 or 2026-11-23 10:00."],
      ["test alf@x.org at mon 25:00", "I don't understand \"25:00\" in \"test alf@x.org at mon 25:00\": expected a time of day like 10:00."],
      ["test alf@x.org at 2026-02-30 10:00", "I don't understand \"2026-02-30\""],
      ["test alf@x.org at 2026-02-30T10:00Z", "I don't understand \"2026-02-30t10:00z\""],
      ["test bob at 10:00", "I don't understand \"bob\" in \"test bob at 10:00\": expected a caller's address like alf@employer.com, or anonymous."],
      ["test alf@x.org at 10:00 please", "I don't understand \"please\""],
      ["test alf@x.org soon", "I don't understand \"soon\""],
      ["test alf@x.org at 10:00 in Mars/Olympus", "I don't understand \"Mars/Olympus\""],
    ])("names the bad part of %p", (text, message) => {
      expect(errorOf(text).message).toContain(message);
    });
  });

  it.each([
    ["allow bob", "bob", "expected anyone, anonymous, verified, an address"],
    ["allow al f@x.org", "al", "expected anyone"],
    ["allow alf@x..org", "alf@x..org", "an address like alf@employer.com"],
    ["allow on tomorow", "tomorow", "expected days like mon-fri"],
    ["allow on mon-fri-sat", "mon-fri-sat", "expected days"],
    ["allow 09:00-25:00", "25:00", "a time like 17:00"],
    ["allow 09:00-09:00", "09:00", "starts and ends at different times"],
    ["allow from 09:00 until", undefined, "stops too soon"],
    ["allow from 09:00 17:00", "17:00", "\"to\" and the end time"],
    ["allow in Mars/Olympus", "Mars/Olympus", "an IANA time zone like Europe/London"],
    ["allow on mon on tue", "on", "days only once"],
    ["allow 09:00-10:00 11:00-12:00", "11:00-12:00", "a time range only once"],
    ["allow as work", "work", "a label in quotes at the very end"],
    ["allow x@y.org to bob@z.org", "to", "use forward"],
    ["remove x", "x", "a rule number like 2"],
    ["remove", undefined, "\"remove\" stops too soon"],
    ["remove 2 3", "3", "nothing more"],
    ["move 3 1", "1", "\"to\" and a position"],
    ["default maybe", "maybe", "ring, refuse, verified or bridge"],
    ["default unverified", "unverified", "ring, refuse, verified or bridge"],
    ["default", undefined, "\"default\" stops too soon: expected ring, refuse, verified or bridge"],
    ["default ring please", "please", "nothing more, or verified to ring only verified callers"],
    ["default refuse verified", "verified", "expected nothing more."],
    ["default verified ring", "ring", "expected nothing more."],
    ["default bridge verified", "verified", "expected nothing more."],
    ["timezone Mars/Olympus", "Mars/Olympus", "an IANA time zone"],
    ["notify refused maybe", "maybe", "on or off"],
    ["notify me", "me", "refused"],
    ["rules please", "please", "nothing more"],
  ])("names the bad part of %p", (text, part, expected) => {
    const e = errorOf(text);
    expect(e.part).toBe(part);
    if (part !== undefined) expect(e.message).toContain(`I don't understand "${part}" in "${text}"`);
    expect(e.message).toContain(expected);
  });

  it("refuses a label that is too long", () => {
    expect(errorOf(`allow as "${"x".repeat(65)}"`).message).toContain("must be 1 to 64 characters");
  });

  it("refuses an unknown command, suggesting help", () => {
    const e = errorOf("!webcall Frobnicate now");
    expect(e.message).toBe("I don't know the command \"Frobnicate\". Send help to see the commands I understand.");
    expect(e.part).toBe("frobnicate");
  });
});
