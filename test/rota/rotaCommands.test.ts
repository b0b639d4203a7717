import { Address } from "../../src/ids/address";
import { MatrixUserId } from "../../src/ids/matrix";
import { LocalUsers } from "../../src/ids/localUsers";
import { RuleError } from "../../src/model/rules";
import { parseRotaCommand, RotaCommand, RotaCommandContext, RotaEdit } from "../../src/rota/commands";

// Wednesday 25 November 2026, noon in London (GMT, UTC+0).
const NOW = Date.parse("2026-11-25T12:00Z");
const local = new LocalUsers("example.org", (id) => id.startsWith("@webcall_"));
const ctx: RotaCommandContext = {
  zone: "Europe/London", now: NOW, sender: "@mod:example.org" as MatrixUserId,
  localUserOf: (a: Address) => local.userIdFor(a),
  isLocalUser: (id: MatrixUserId) => local.addressOf(id) !== undefined,
};

const parse = (text: string, context = ctx): RotaCommand | undefined => parseRotaCommand(text, context);

function editOf(text: string, context = ctx): RotaEdit {
  const command = parse(text, context);
  if (command?.kind !== "edit") throw new Error(`not an edit: ${JSON.stringify(command)}`);
  return command.edit;
}

function errorOf(text: string): string {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(RuleError);
    return (e as RuleError).message;
  }
  throw new Error(`"${text}" was understood`);
}

const alice = { kind: "matrix", userId: "@alice:example.org" };
const bob = { kind: "matrix", userId: "@bob:example.org" };

describe("rota commands: reading", () => {
  test("only messages that start with the word rota are rota commands", () => {
    expect(parse("hello")).toBeUndefined();
    expect(parse("rotation")).toBeUndefined();
    expect(parse("the rota who")).toBeUndefined();
  });

  test("rota, rota help, who, shifts [n], members, rules", () => {
    expect(parse("rota")).toEqual({ kind: "help" });
    expect(parse("  Rota HELP ")).toEqual({ kind: "help" });
    expect(parse("rota who")).toEqual({ kind: "who" });
    expect(parse("rota shifts")).toEqual({ kind: "shifts", count: 5 });
    expect(parse("rota shifts 12")).toEqual({ kind: "shifts", count: 12 });
    expect(parse("rota members")).toEqual({ kind: "show_members" });
    expect(parse("rota rules")).toEqual({ kind: "show_rules" });
    expect(parse("rota rules list")).toEqual({ kind: "show_rules" });
  });

  test("rota rules link points at the DM's link command and the rota's own link", () => {
    expect(() => parse("rota rules link")).toThrow(/rota's call link .*\/call\/<rota name>/);
  });

  test("rota calendar, and rota calendar reset", () => {
    expect(parse("rota calendar")).toEqual({ kind: "calendar", reset: false });
    expect(parse("rota Calendar RESET")).toEqual({ kind: "calendar", reset: true });
    expect(errorOf("rota calendar now")).toBe(`I don't understand "now" in "rota calendar now": expected nothing more, or "reset" for a new URL.`);
  });

  test("rota rules test reads the time in the rota's zone", () => {
    const command = parse("rota rules test anonymous at 2026-11-26 10:00", { ...ctx, zone: "Europe/Berlin" });
    expect(command).toEqual({ kind: "test_rules", command: { kind: "test", facts: { caller: null, verified: false, at: Date.parse("2026-11-26T09:00Z") } } });
  });
});

describe("rota commands: changing", () => {
  test("create NAME, lower-cased; delete", () => {
    expect(parse("rota create on-call")).toEqual({ kind: "create", name: "on-call" });
    expect(parse("rota create On-Call")).toEqual({ kind: "create", name: "on-call" });
    expect(parse("rota delete")).toEqual({ kind: "delete" });
  });

  test("members: Matrix users, remote addresses, a local address as its user, me; room resets to the room's members", () => {
    expect(editOf("rota members @alice:example.org @bob:example.org carol@hello.com")).toEqual({
      kind: "members", members: [alice, bob, { kind: "address", address: "carol@hello.com" }],
    });
    expect(editOf("rota members dave@example.org me")).toEqual({
      kind: "members", members: [{ kind: "matrix", userId: "@dave:example.org" }, { kind: "matrix", userId: "@mod:example.org" }],
    });
    expect(editOf("rota members room")).toEqual({ kind: "members", members: null });
  });

  test("weekly and daily handovers, in a zone or the rota's", () => {
    expect(editOf("rota weekly mon 09:00 Europe/London")).toEqual({ kind: "rotation", rotation: { every: "week", weekday: "mon", time: "09:00", zone: "Europe/London" } });
    expect(editOf("rota weekly Friday 17:30")).toEqual({ kind: "rotation", rotation: { every: "week", weekday: "fri", time: "17:30", zone: "Europe/London" } });
    expect(editOf("rota daily 8:00 europe/berlin")).toEqual({ kind: "rotation", rotation: { every: "day", time: "08:00", zone: "Europe/Berlin" } });
  });

  test("cover until a time, or from one until another, read in the rota's zone", () => {
    expect(editOf("rota cover @bob:example.org until 2026-12-04 18:00")).toEqual({
      kind: "cover", member: bob, from: NOW, until: Date.parse("2026-12-04T18:00Z"),
    });
    const berlin = editOf("rota cover @bob:example.org from 2026-12-03 09:00 until 2026-12-04 18:00", { ...ctx, zone: "Europe/Berlin" });
    expect(berlin).toEqual({ kind: "cover", member: bob, from: Date.parse("2026-12-03T08:00Z"), until: Date.parse("2026-12-04T17:00Z") });
    expect(editOf("rota cover me until tomorrow 09:00")).toMatchObject({ member: { userId: "@mod:example.org" }, until: Date.parse("2026-11-26T09:00Z") });
    expect(editOf("rota uncover 2")).toEqual({ kind: "uncover", id: 2 });
    expect(editOf("rota uncover #3")).toEqual({ kind: "uncover", id: 3 });
  });

  test("escalate a step, then all; ring all", () => {
    expect(editOf("rota escalate 30s")).toEqual({ kind: "escalation", escalation: { mode: "sequence", stepMs: 30_000, thenAll: false } });
    expect(editOf("rota escalate 2m then all")).toEqual({ kind: "escalation", escalation: { mode: "sequence", stepMs: 120_000, thenAll: true } });
    expect(editOf("rota escalate 45 sec")).toMatchObject({ escalation: { stepMs: 45_000 } });
    expect(editOf("rota ring all")).toEqual({ kind: "escalation", escalation: { mode: "all" } });
  });

  test("rules: the users' rule language, times in the rota's zone", () => {
    expect(editOf("rota rules allow *@customer.com")).toEqual({ kind: "rules", command: { kind: "edit", edit: { kind: "add", rule: { action: "ring", caller: "*@customer.com" } } } });
    expect(editOf("rota rules refuse anonymous")).toMatchObject({ command: { edit: { kind: "add", rule: { action: "refuse", anonymous: true } } } });
    expect(editOf("rota rules default verified")).toMatchObject({ command: { edit: { kind: "default", action: "ring_verified" } } });
    expect(editOf("rota rules remove 1")).toMatchObject({ command: { edit: { kind: "remove", rule: 1 } } });
    expect(editOf("rota rules allow anyone on mon-fri 09:00-17:00", { ...ctx, zone: "America/New_York" }))
      .toMatchObject({ command: { edit: { rule: { timeZone: "America/New_York", from: "09:00", to: "17:00" } } } });
  });
});

describe("rota commands: what is not understood is named", () => {
  test.each([
    ["rota frobnicate", /rota command "frobnicate".*rota help/],
    ["rota create", /stops too soon: expected a name/],
    ["rota create on call", /"call".*one word/],
    ["rota create _bad", /"_bad".*a name like on-call/],
    ["rota create Ünïcode", /"Ünïcode"/],
    ["rota who now", /"now".*nothing more/],
    ["rota shifts 0", /1 to 50 shifts, not 0/],
    ["rota shifts 99", /1 to 50 shifts, not 99/],
    ["rota shifts many", /"many".*how many shifts/],
    ["rota members @Alice:example.org", /"@Alice:example.org".*lower case/],
    ["rota members @alice:elsewhere.org", /@alice:elsewhere\.org is not a user of this homeserver.*WebCall address/],
    ["rota members @alice:example.org bob", /"bob".*a member like/],
    ["rota members @alice:example.org @alice:example.org", /named twice/],
    ["rota weekly someday 09:00", /"someday".*a day like mon/],
    ["rota weekly mon 25:00", /"25:00".*a handover time/],
    ["rota daily 08:00 Mars/Olympus", /"Mars\/Olympus".*IANA time zone/],
    ["rota daily 08:00 Europe/Berlin extra", /"extra".*nothing more/],
    ["rota cover @bob:example.org", /stops too soon.*"until"/],
    ["rota cover @bob:example.org till friday", /"till".*"until"/],
    ["rota cover @bob:example.org until someday", /"someday"/],
    ["rota cover @bob:example.org until 2026-02-30 10:00", /real date/],
    ["rota uncover", /stops too soon.*number of a cover/],
    ["rota escalate", /stops too soon.*30s/],
    ["rota escalate soon", /"soon".*like 30s/],
    ["rota escalate 1s", /5s to 10m, not 1s/],
    ["rota escalate 30m", /5s to 10m, not 30m/],
    ["rota escalate 30s then some", /"some".*then all/],
    ["rota ring some", /"some".*all/],
    ["rota rules frobnicate", /frobnicate/],
    ["rota rules timezone Europe/Paris", /no zone of their own/],
    ["rota rules notify refused on", /no refused-call notices/],
  ])("%s", (text, message) => {
    expect(errorOf(text)).toMatch(message);
  });
});
