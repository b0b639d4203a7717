import { compileRules, decide } from "../../src/rules/evaluate";
import { describeRule, renderDecision, renderEditResult, renderHelp, renderRules } from "../../src/rules/describe";
import { parseCommand } from "../../src/rules/commands";
import { Rule } from "../../src/model/rules";
import { call, userRules } from "./fixtures";

const weekdays: Rule["days"] = ["mon", "tue", "wed", "thu", "fri"];
const rules: Rule[] = [
  { action: "forward", forwardTo: "alice@hello.com", days: weekdays, from: "09:00", to: "17:00", timeZone: "Europe/London" },
  { action: "refuse", anonymous: true, label: "<script>alert('x')</script>" },
  { action: "ring", caller: "*@employer.com", verified: true },
];

describe("describing rules", () => {
  it.each([
    [rules[0], "forward anyone to alice@hello.com, Mon–Fri 09:00–17:00 (Europe/London)"],
    [{ action: "refuse", anonymous: true }, "refuse anonymous"],
    [{ action: "ring" }, "allow anyone"],
    [{ action: "ring", verified: true }, "allow verified callers"],
    [{ action: "ring", verified: false, domain: "*.employer.com" }, "allow unverified *.employer.com"],
    [{ action: "ring", anonymous: false }, "allow anyone with an address"],
    [{ action: "refuse", days: ["sat", "sun"], timeZone: "Europe/Paris" }, "refuse anyone, Sat–Sun (Europe/Paris)"],
    [{ action: "refuse", days: ["mon", "wed", "fri"], from: "22:00", to: "06:00" }, "refuse anyone, Mon, Wed, Fri 22:00–06:00 (UTC)"],
    [{ action: "refuse", days: ["mon", "tue", "wed", "sat", "sun"] }, "refuse anyone, Mon–Wed, Sat–Sun (UTC)"],
    [{ action: "ring", from: "18:00", to: "24:00", timeZone: "Asia/Tokyo", label: "evenings" }, "allow anyone, every day 18:00–24:00 (Asia/Tokyo) as \"evenings\""],
  ] as [Rule, string][])("%j reads %p", (rule, text) => {
    expect(describeRule(rule)).toBe(text);
  });
});

describe("the rules list", () => {
  const user = userRules(rules, { timeZone: "Europe/London" });

  it("numbers the rules in plain text and as an HTML ordered list", () => {
    const { body, html } = renderRules(user, "ring");
    expect(body).toContain("1. forward anyone to alice@hello.com, Mon–Fri 09:00–17:00 (Europe/London)");
    expect(body).toContain("2. refuse anonymous as \"<script>alert('x')</script>\"");
    expect(body).toContain("3. allow verified *@employer.com");
    expect(html.match(/<li>/g)).toHaveLength(3);
    expect(html).toMatch(/<ol><li>forward anyone to alice@hello\.com, Mon–Fri 09:00–17:00 \(Europe\/London\)<\/li><li>refuse anonymous/);
  });

  it("escapes what users wrote", () => {
    const { html } = renderRules(user, "ring");
    expect(html).not.toContain("<script>");
    expect(html).toContain("as &quot;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;");
  });

  it("says what happens otherwise, the zone and whether refused calls are noted", () => {
    expect(renderRules(user, "ring").body).toContain("A call no rule matches rings (the bridge's default).");
    expect(renderRules({ ...user, defaultAction: "refuse" }, "ring").body).toContain("A call no rule matches is refused (your default).");
    expect(renderRules(user, "ring").body).toContain("read in Europe/London");
    expect(renderRules({ ...user, timeZone: null }, "ring", "America/Chicago").body).toContain("read in America/Chicago (the bridge's zone)");
    expect(renderRules(user, "ring").body).toContain("Refused calls are noted in your chat with the caller");
    expect(renderRules({ ...user, notifyRefused: false }, "ring").body).toContain("Refused calls are silent");
  });

  it("says what a default of ring verified callers only does", () => {
    expect(renderRules(user, "ring_verified").body)
      .toContain("A call no rule matches rings if the caller is verified, and is refused if not (the bridge's default).");
    expect(renderRules({ ...user, defaultAction: "ring_verified" }, "ring").body)
      .toContain("A call no rule matches rings if the caller is verified, and is refused if not (your default).");
    expect(renderRules(userRules([]), "ring_verified").body)
      .toContain("You have no rules, so every call rings if the caller is verified, and is refused if not (the bridge's default).");
    expect(renderRules({ ...user, defaultAction: "ring" }, "ring_verified").body).toContain("A call no rule matches rings (your default).");
  });

  it("says when there are no rules, and how to add one", () => {
    const { body, html } = renderRules(userRules([]), "refuse");
    expect(body).toContain("You have no rules, so every call is refused (the bridge's default).");
    expect(body).toContain("allow *@employer.com on mon-fri 09:00-17:00");
    expect(html).not.toContain("<ol>");
  });
});

describe("test results", () => {
  const user = userRules(rules, { timeZone: "Europe/London" });
  const compiled = compileRules(user);

  it("names the rule that fires and what would happen, and that nobody was rung", () => {
    const facts = call("alf@x.org", "2026-11-23T10:00Z");
    const { body, html } = renderDecision(decide(compiled, facts, "ring"), facts, user, "ring");
    expect(body).toContain("A call from alf@x.org (unverified) at Mon 2026-11-23 10:00 (Europe/London):");
    expect(body).toContain("Rule 1 (forward anyone to alice@hello.com, Mon–Fri 09:00–17:00 (Europe/London)) would fire: the call would be forwarded to alice@hello.com.");
    expect(body).toContain("nobody was rung");
    expect(html).toContain("<p>This was only a test: nobody was rung.</p>");
  });

  it("escapes the firing rule's label", () => {
    const facts = call(null, "2026-11-28T10:00Z");
    const { body, html } = renderDecision(decide(compiled, facts, "ring"), facts, user, "ring");
    expect(body).toContain("A call from an anonymous caller at Sat 2026-11-28 10:00 (Europe/London):");
    expect(body).toContain("Rule 2 (refuse anonymous as \"<script>");
    expect(body).toContain("the call would be refused.");
    expect(html).not.toContain("<script>");
  });

  it("explains the user's and the bridge's defaults", () => {
    const facts = call("bob@other.org", "2026-11-28T10:00Z");
    expect(renderDecision(decide(compileRules({ ...user, defaultAction: "ring" }), facts, "refuse"), facts, user, "refuse").body)
      .toContain("No rule matches: your default applies: it would ring.");
    expect(renderDecision(decide(compiled, facts, "refuse"), facts, user, "refuse").body)
      .toContain("No rule matches and you have no default: the bridge's default (refuse) applies: it would be refused.");
  });

  it("explains a default of ring verified callers only, and why it rang or refused", () => {
    const at = "2026-11-28T10:00Z";
    const verdict = (facts: ReturnType<typeof call>, own: "ring_verified" | null, bridge: "ring" | "refuse" | "ring_verified") => {
      const mine = { ...user, defaultAction: own };
      return renderDecision(decide(compileRules(mine), facts, bridge), facts, mine, bridge).body;
    };
    expect(verdict(call("bob@other.org", at, true), null, "ring_verified"))
      .toContain("No rule matches and you have no default: the bridge's default (ring verified callers only) applies: the caller is verified, so it would ring.");
    expect(verdict(call("bob@other.org", at, false), null, "ring_verified"))
      .toContain("No rule matches and you have no default: the bridge's default (ring verified callers only) applies: the caller is not verified, so it would be refused.");
    expect(verdict(call("bob@other.org", at, false), "ring_verified", "ring"))
      .toContain("No rule matches: your default (ring verified callers only) applies: the caller is not verified, so it would be refused.");
    expect(verdict(call("bob@other.org", at, true), "ring_verified", "refuse"))
      .toContain("No rule matches: your default (ring verified callers only) applies: the caller is verified, so it would ring.");
  });

  it("explains why an anonymous caller is refused by a default of ring verified callers only", () => {
    const mine = userRules([], { defaultAction: "ring_verified" });
    const facts = call(null, "2026-11-28T10:00Z");
    expect(renderDecision(decide(compileRules(mine), facts, "ring"), facts, mine, "ring").body)
      .toContain("No rule matches: your default (ring verified callers only) applies: an anonymous caller is not verified, so it would be refused.");
  });

  it("shows the time in the zone asked for", () => {
    const facts = call("bob@other.org", "2026-06-22T09:00Z");
    expect(renderDecision(decide(compiled, facts, "ring"), facts, user, "ring", "America/New_York").body)
      .toContain("at Mon 2026-06-22 05:00 (America/New_York)");
  });
});

describe("edit confirmations", () => {
  it("confirms an added rule with its number, then lists the rules", () => {
    const added: Rule = { action: "refuse", anonymous: true };
    const user = userRules([rules[0] as Rule, added]);
    const { body, html } = renderEditResult({ kind: "add", rule: added }, user, "ring");
    expect(body.split("\n")[0]).toBe("Added rule 2: refuse anonymous.");
    expect(body).toContain("2. refuse anonymous");
    expect(html).toContain("<p>Added rule 2: refuse anonymous.</p>");
    expect(renderEditResult({ kind: "add", rule: added, position: 1 }, userRules([added, rules[0] as Rule])).body)
      .toMatch(/^Added rule 1: refuse anonymous\./);
  });

  it.each([
    [{ kind: "remove", rule: 2 }, "Removed rule 2."],
    [{ kind: "move", rule: 3, to: 1 }, "Moved rule 3 to position 1."],
    [{ kind: "default", action: "refuse" }, "A call no rule matches now is refused."],
    [{ kind: "default", action: null }, "A call no rule matches now follows the bridge's default (it rings)."],
    [{ kind: "default", action: "ring_verified" }, "A call no rule matches now rings if the caller is verified, and is refused if not."],
    [{ kind: "timezone", timeZone: "Europe/Paris" }, "read in Europe/Paris; rules you already have keep theirs."],
    [{ kind: "timezone", timeZone: null }, "read in the bridge's zone"],
    [{ kind: "notify_refused", on: true }, "Refused calls will now be noted in your chat with the caller."],
    [{ kind: "notify_refused", on: false }, "Refused calls will now be silent."],
  ] as const)("confirms %j", (edit, text) => {
    const { body } = renderEditResult(edit, userRules(rules), "ring");
    expect(body.split("\n")[0]).toContain(text);
    expect(body).toContain("1. forward anyone");
  });

  it("says what the bridge's default of ring verified callers only does when the user goes back to it", () => {
    const { body } = renderEditResult({ kind: "default", action: null }, userRules(rules), "ring_verified");
    expect(body.split("\n")[0]).toBe("A call no rule matches now follows the bridge's default (it rings if the caller is verified, and is refused if not).");
  });
});

describe("help", () => {
  it("lists every command with an example", () => {
    const { body, html } = renderHelp();
    for (const command of ["rules", "allow", "refuse", "forward", "remove", "move", "default", "timezone", "notify refused", "test", "help"]) {
      expect(body).toMatch(new RegExp(`^• ${command}\\b`, "m"));
    }
    expect(body).toContain("e.g. forward to alice@hello.com on weekdays from 18:00 to 08:00 in Europe/London");
    expect(html).toContain("<code>forward [who] to &lt;address&gt; [when]</code>");
    expect(html).not.toMatch(/<(?!\/?(p|ul|li|code)>)/);
  });

  it("offers a default of ring verified callers only", () => {
    const { body, html } = renderHelp();
    expect(body).toContain("• default ring|refuse|verified|bridge — what happens when no rule matches: ring, refuse, ring verified callers only (refusing the rest), or follow the bridge's default, e.g. default verified");
    expect(html).toContain("<code>default verified</code>");
  });

  it("gives examples the bot understands", () => {
    const examples = renderHelp().body.split("\n").flatMap((line) => /, e\.g\. (.+)$/.exec(line)?.[1] ?? []);
    expect(examples.length).toBeGreaterThanOrEqual(10);
    for (const example of examples) {
      expect(() => parseCommand(example, { timeZone: "UTC", now: 0 })).not.toThrow();
    }
  });
});
