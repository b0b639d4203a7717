import { RingPlan, Rotation } from "../../src/model/rota";
import { memberKey, onCallAt, ringPlan, shifts } from "../../src/rota/schedule";
import { T, alice, bob, carol, cover, dave, erin, frank, gina, readable, remote, rota, user } from "./fixtures";

// The default rota: alice, bob, carol in turn, weekly on Monday 09:00
// Europe/London, alice's first turn from Mon 2 Nov 2026 09:00 GMT.
describe("who is on call", () => {
  it.each([
    ["2026-11-04T12:00Z", "2026-11-02T09:00Z – 2026-11-09T09:00Z @alice:example.org"],
    ["2026-11-09T08:59Z", "2026-11-02T09:00Z – 2026-11-09T09:00Z @alice:example.org"],
    ["2026-11-09T09:00Z", "2026-11-09T09:00Z – 2026-11-16T09:00Z @bob:example.org"],
    ["2026-11-18T00:00Z", "2026-11-16T09:00Z – 2026-11-23T09:00Z @carol:example.org"],
    ["2026-11-23T09:00Z", "2026-11-23T09:00Z – 2026-11-30T09:00Z @alice:example.org"],
    ["2026-10-28T12:00Z", "2026-10-26T09:00Z – 2026-11-02T09:00Z @carol:example.org"], // before the anchor: the turn before alice's
  ])("weekly: at %s", (at, shift) => {
    expect(readable(onCallAt(rota(), [alice, bob, carol], T(at)))).toBe(shift);
  });

  it("daily: a turn a day, 08:00 Europe/Berlin", () => {
    const r = rota({ rotation: { every: "day", time: "08:00", zone: "Europe/Berlin" }, since: "2026-12-01T07:00Z" });
    expect(readable(onCallAt(r, [alice, bob, carol], T("2026-12-01T12:00Z")))).toBe("2026-12-01T07:00Z – 2026-12-02T07:00Z @alice:example.org");
    expect(readable(onCallAt(r, [alice, bob, carol], T("2026-12-03T06:59Z")))).toBe("2026-12-02T07:00Z – 2026-12-03T07:00Z @bob:example.org");
    expect(readable(onCallAt(r, [alice, bob, carol], T("2026-12-04T07:00Z")))).toBe("2026-12-04T07:00Z – 2026-12-05T07:00Z @alice:example.org");
  });

  it("a shift over the spring change is an hour short, and the turns do not slip", () => {
    const r = rota({ since: "2026-03-02T09:00Z" }); // alice from Mon 2 Mar
    expect(readable(onCallAt(r, [alice, bob, carol], T("2026-03-24T12:00Z")))).toBe("2026-03-23T09:00Z – 2026-03-30T08:00Z @alice:example.org");
    expect(readable(onCallAt(r, [alice, bob, carol], T("2026-03-30T08:00Z")))).toBe("2026-03-30T08:00Z – 2026-04-06T08:00Z @bob:example.org");
  });

  it("uses the members the caller passes (the room's, when the rota names none)", () => {
    const r = rota({ members: null });
    expect(onCallAt(r, [dave, erin], T("2026-11-10T12:00Z"))?.member).toEqual(erin);
  });

  it("nobody, when there are no members and no cover", () => {
    expect(onCallAt(rota({ members: [] }), [], T("2026-11-10T12:00Z"))).toBeUndefined();
    expect(shifts(rota({ members: [] }), [], T("2026-11-10T12:00Z"), 5)).toEqual([]);
  });

  it("a cover still holds in a rota with no members", () => {
    const r = rota({ members: [], overrides: [cover(1, dave, "2026-11-10T00:00Z", "2026-11-11T00:00Z")] });
    expect(readable(onCallAt(r, [], T("2026-11-10T12:00Z")))).toBe("2026-11-10T00:00Z – 2026-11-11T00:00Z @dave:example.org (cover 1)");
    expect(shifts(r, [], T("2026-11-01T00:00Z"), 5).map(readable)).toEqual(["2026-11-10T00:00Z – 2026-11-11T00:00Z @dave:example.org (cover 1)"]);
  });

  it("a 1-member rota: always them, a shift per handover", () => {
    const r = rota({ members: [bob] });
    expect(shifts(r, [bob], T("2026-11-04T00:00Z"), 3).map(readable)).toEqual([
      "2026-11-02T09:00Z – 2026-11-09T09:00Z @bob:example.org",
      "2026-11-09T09:00Z – 2026-11-16T09:00Z @bob:example.org",
      "2026-11-16T09:00Z – 2026-11-23T09:00Z @bob:example.org",
    ]);
  });

  it("a 50-member rota: member k mod 50, counted in local days over a year of both changes", () => {
    const fifty = Array.from({ length: 50 }, (_, i) => user(`m${i}`));
    const weekly = rota({ members: fifty });
    const week = 7 * 86_400_000;
    expect(onCallAt(weekly, fifty, T("2026-11-02T09:00Z") + 49 * week)?.member).toEqual(fifty[49]);
    expect(onCallAt(weekly, fifty, T("2026-11-02T09:00Z") + 50 * week + 1)?.member).toEqual(fifty[0]);
    const daily: Rotation = { every: "day", time: "09:00", zone: "Europe/London" };
    const r = rota({ members: fifty, rotation: daily, since: "2026-01-01T09:00Z" });
    expect(onCallAt(r, fifty, T("2027-01-01T09:00Z"))?.member).toEqual(fifty[365 % 50]);
    expect(onCallAt(r, fifty, T("2027-01-01T08:59Z"))?.member).toEqual(fifty[364 % 50]);
    expect(onCallAt(r, fifty, T("2026-07-01T08:00Z"))?.member).toEqual(fifty[181 % 50]); // 09:00 BST
  });
});

describe("overrides", () => {
  it("one inside a shift cuts the rotation's shift around it", () => {
    const r = rota({ overrides: [cover(1, dave, "2026-11-04T12:00Z", "2026-11-05T12:00Z")] });
    const members = [alice, bob, carol];
    expect(readable(onCallAt(r, members, T("2026-11-03T00:00Z")))).toBe("2026-11-02T09:00Z – 2026-11-04T12:00Z @alice:example.org");
    expect(readable(onCallAt(r, members, T("2026-11-04T12:00Z")))).toBe("2026-11-04T12:00Z – 2026-11-05T12:00Z @dave:example.org (cover 1)");
    expect(readable(onCallAt(r, members, T("2026-11-05T12:00Z")))).toBe("2026-11-05T12:00Z – 2026-11-09T09:00Z @alice:example.org");
    expect(shifts(r, members, T("2026-11-02T10:00Z"), 4).map(readable)).toEqual([
      "2026-11-02T09:00Z – 2026-11-04T12:00Z @alice:example.org",
      "2026-11-04T12:00Z – 2026-11-05T12:00Z @dave:example.org (cover 1)",
      "2026-11-05T12:00Z – 2026-11-09T09:00Z @alice:example.org",
      "2026-11-09T09:00Z – 2026-11-16T09:00Z @bob:example.org",
    ]);
  });

  it("one spanning handovers is one shift, and the rotation resumes on its own count", () => {
    const r = rota({ overrides: [cover(2, remote("carol@hello.com"), "2026-11-08T18:00Z", "2026-11-17T18:00Z")] });
    expect(shifts(r, [alice, bob, carol], T("2026-11-02T09:00Z"), 3).map(readable)).toEqual([
      "2026-11-02T09:00Z – 2026-11-08T18:00Z @alice:example.org",
      "2026-11-08T18:00Z – 2026-11-17T18:00Z carol@hello.com (cover 2)",
      "2026-11-17T18:00Z – 2026-11-23T09:00Z @carol:example.org", // bob's turn passed under the cover
    ]);
  });

  it("where several overlap, the latest created wins, whatever the list's order", () => {
    const overrides = [
      cover(3, frank, "2026-11-05T12:00Z", "2026-11-07T00:00Z"),
      cover(1, dave, "2026-11-03T00:00Z", "2026-11-06T00:00Z"),
      cover(2, erin, "2026-11-04T00:00Z", "2026-11-05T00:00Z"),
      cover(5, bob, "2026-11-19T00:00Z", "2026-11-26T00:00Z"),
      cover(4, gina, "2026-11-20T00:00Z", "2026-11-25T00:00Z"), // created before 5, wholly under it
    ];
    const r = rota({ overrides });
    expect(shifts(r, [alice, bob, carol], T("2026-11-02T09:00Z"), 9).map(readable)).toEqual([
      "2026-11-02T09:00Z – 2026-11-03T00:00Z @alice:example.org",
      "2026-11-03T00:00Z – 2026-11-04T00:00Z @dave:example.org (cover 1)",
      "2026-11-04T00:00Z – 2026-11-05T00:00Z @erin:example.org (cover 2)",
      "2026-11-05T00:00Z – 2026-11-05T12:00Z @dave:example.org (cover 1)",
      "2026-11-05T12:00Z – 2026-11-07T00:00Z @frank:example.org (cover 3)",
      "2026-11-07T00:00Z – 2026-11-09T09:00Z @alice:example.org",
      "2026-11-09T09:00Z – 2026-11-16T09:00Z @bob:example.org",
      "2026-11-16T09:00Z – 2026-11-19T00:00Z @carol:example.org",
      "2026-11-19T00:00Z – 2026-11-26T00:00Z @bob:example.org (cover 5)",
    ]);
    expect(readable(onCallAt(r, [alice, bob, carol], T("2026-11-22T00:00Z")))).toBe("2026-11-19T00:00Z – 2026-11-26T00:00Z @bob:example.org (cover 5)");
  });

  it("an override's end is exclusive, as a shift's is", () => {
    const r = rota({ overrides: [cover(1, dave, "2026-11-04T12:00Z", "2026-11-05T12:00Z")] });
    expect(onCallAt(r, [alice], T("2026-11-05T12:00Z") - 1)?.member).toEqual(dave);
    expect(onCallAt(r, [alice], T("2026-11-05T12:00Z"))?.member).toEqual(alice);
  });
});

describe("ring plans", () => {
  const members = [alice, bob, carol];
  const inBobsWeek = T("2026-11-10T12:00Z");
  /** Each step's members, local users by localpart. */
  const names = (plan: RingPlan) => plan.steps.map((step) => step.map((m) => (m.kind === "matrix" ? m.userId.slice(1, m.userId.indexOf(":")) : m.address)));

  it("sequence: the person on call, then each next in rotation order, once each", () => {
    const plan = ringPlan(rota(), members, inBobsWeek);
    expect(names(plan)).toEqual([["bob"], ["carol"], ["alice"]]);
    expect(plan.stepMs).toBe(30_000);
  });

  it("sequence then all: the person on call, then everyone else at once", () => {
    const plan = ringPlan(rota({ escalation: { mode: "sequence", stepMs: 20_000, thenAll: true } }), members, inBobsWeek);
    expect(names(plan)).toEqual([["bob"], ["carol", "alice"]]);
    expect(plan.stepMs).toBe(20_000);
  });

  it("all: everyone at once, no step", () => {
    const plan = ringPlan(rota({ escalation: { mode: "all" } }), members, inBobsWeek);
    expect(names(plan)).toEqual([["bob", "carol", "alice"]]);
    expect(plan.stepMs).toBeNull();
  });

  it("an override's member first, then the rotation from its own on-call member", () => {
    const overrides = [cover(1, dave, "2026-11-10T00:00Z", "2026-11-11T00:00Z")];
    expect(names(ringPlan(rota({ overrides }), members, inBobsWeek))).toEqual([["dave"], ["bob"], ["carol"], ["alice"]]);
    expect(names(ringPlan(rota({ overrides, escalation: { mode: "sequence", stepMs: 30_000, thenAll: true } }), members, inBobsWeek)))
      .toEqual([["dave"], ["bob", "carol", "alice"]]);
    expect(names(ringPlan(rota({ overrides, escalation: { mode: "all" } }), members, inBobsWeek))).toEqual([["dave", "bob", "carol", "alice"]]);
  });

  it("a member covering is not rung twice", () => {
    const overrides = [cover(1, alice, "2026-11-10T00:00Z", "2026-11-11T00:00Z")];
    expect(names(ringPlan(rota({ overrides }), members, inBobsWeek))).toEqual([["alice"], ["bob"], ["carol"]]);
  });

  it("a remote member is rung by address", () => {
    const plan = ringPlan(rota({ members: [alice, remote("carol@hello.com")] }), [alice, remote("carol@hello.com")], inBobsWeek);
    expect(plan.steps).toEqual([[remote("carol@hello.com")], [alice]]);
  });

  it("one member; no members", () => {
    expect(names(ringPlan(rota({ escalation: { mode: "sequence", stepMs: 30_000, thenAll: true } }), [bob], inBobsWeek))).toEqual([["bob"]]);
    expect(ringPlan(rota(), [], inBobsWeek).steps).toEqual([]);
    expect(ringPlan(rota({ escalation: { mode: "all" } }), [], inBobsWeek).steps).toEqual([]);
  });

  it("50 members: all fifty, once each, from the one on call", () => {
    const fifty = Array.from({ length: 50 }, (_, i) => user(`m${i}`));
    const plan = ringPlan(rota({ members: fifty }), fifty, T("2026-11-02T09:00Z") + 7 * 7 * 86_400_000 + 1); // week 7
    expect(plan.steps).toHaveLength(50);
    expect(plan.steps[0]).toEqual([fifty[7]]);
    expect(plan.steps[49]).toEqual([fifty[6]]);
    expect(new Set(plan.steps.flat().map(memberKey)).size).toBe(50);
  });
});
