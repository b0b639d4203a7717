import { shiftsText, whenText, whoText } from "../../src/rota/shiftText";
import { T, alice, cover, remote, rota, user } from "./fixtures";

const bob = user("bob");
const carolRemote = remote("carol@hello.com");
const members = [bob, alice, carolRemote];
// bob from Mon 23 Nov 2026 09:00 GMT, then alice, then carol@hello.com.
const base = rota({ members, since: "2026-11-23T09:00Z" });

describe("the schedule in words", () => {
  it("a time in the rota's zone, the year only when it is another", () => {
    expect(whenText(T("2026-11-30T09:00Z"), "Europe/London")).toBe("Mon 30 Nov 09:00");
    expect(whenText(T("2026-07-06T08:00Z"), "Europe/London")).toBe("Mon 6 Jul 09:00");
    expect(whenText(T("2026-11-30T14:00Z"), "America/New_York")).toBe("Mon 30 Nov 09:00");
    expect(whenText(T("2027-01-04T09:00Z"), "Europe/London", 2026)).toBe("Mon 4 Jan 2027 09:00");
    expect(whenText(T("2026-12-01T00:05Z"), "UTC")).toBe("Tue 1 Dec 00:05");
  });

  it("rota who: on call until when, and who is next", () => {
    expect(whoText(base, members, T("2026-11-25T12:00Z")))
      .toBe("@bob:example.org is on call until Mon 30 Nov 09:00 (Europe/London); next: @alice:example.org");
    expect(whoText(base, members, T("2026-12-08T12:00Z")))
      .toBe("carol@hello.com is on call until Mon 14 Dec 09:00 (Europe/London); next: @bob:example.org");
  });

  it("rota who under a cover names it, and the rotation resumes next", () => {
    const r = { ...base, overrides: [cover(2, carolRemote, "2026-12-03T18:00Z", "2026-12-04T18:00Z")] };
    expect(whoText(r, members, T("2026-12-04T09:00Z")))
      .toBe("carol@hello.com is on call (cover 2) until Fri 4 Dec 18:00 (Europe/London); next: @alice:example.org");
  });

  it("rota who with nobody on call", () => {
    expect(whoText(rota({ members: [] }), [], T("2026-11-25T12:00Z"))).toBe("Nobody is on call: the rota has no members, and no cover now.");
  });

  it("rota shifts: one line per shift, covers spliced in, in the rota's zone", () => {
    const r = { ...base, overrides: [cover(2, carolRemote, "2026-12-03T18:00Z", "2026-12-04T18:00Z")] };
    expect(shiftsText(r, members, T("2026-11-25T12:00Z"), 5)).toBe([
      "Shifts of on-call (Europe/London):",
      "Mon 23 Nov 09:00 – Mon 30 Nov 09:00  @bob:example.org",
      "Mon 30 Nov 09:00 – Thu 3 Dec 18:00  @alice:example.org",
      "Thu 3 Dec 18:00 – Fri 4 Dec 18:00  carol@hello.com (cover 2)",
      "Fri 4 Dec 18:00 – Mon 7 Dec 09:00  @alice:example.org",
      "Mon 7 Dec 09:00 – Mon 14 Dec 09:00  carol@hello.com",
    ].join("\n"));
  });

  it("rota shifts into the new year, and in a zone west of UTC", () => {
    expect(shiftsText(base, members, T("2026-12-22T12:00Z"), 2).split("\n").slice(1)).toEqual([
      "Mon 21 Dec 09:00 – Mon 28 Dec 09:00  @alice:example.org",
      "Mon 28 Dec 09:00 – Mon 4 Jan 2027 09:00  carol@hello.com",
    ]);
    const ny = rota({ members, rotation: { every: "day", time: "09:00", zone: "America/New_York" }, since: "2026-10-31T13:00Z" });
    expect(shiftsText(ny, members, T("2026-10-31T13:00Z"), 3)).toBe([
      "Shifts of on-call (America/New_York):",
      "Sat 31 Oct 09:00 – Sun 1 Nov 09:00  @bob:example.org",
      "Sun 1 Nov 09:00 – Mon 2 Nov 09:00  @alice:example.org",
      "Mon 2 Nov 09:00 – Tue 3 Nov 09:00  carol@hello.com",
    ].join("\n"));
  });

  it("rota shifts with nobody to list", () => {
    expect(shiftsText(rota({ members: [] }), [], T("2026-11-25T12:00Z"), 5)).toBe("No shifts for on-call: the rota has no members, and no cover ahead.");
  });
});

describe("rota who, when the same person stays on", () => {
  it("a cover by the member on call reads as one stretch, until someone else takes over", () => {
    const r = { ...base, overrides: [cover(1, bob, "2026-11-30T09:00Z", "2026-12-01T12:00Z")] };
    expect(whoText(r, members, T("2026-11-25T12:00Z")))
      .toBe("@bob:example.org is on call until Tue 1 Dec 12:00 (Europe/London); next: @alice:example.org");
  });

  it("a 1-member rota: on call, and nobody else", () => {
    expect(whoText(rota({ members: [bob] }), [bob], T("2026-11-25T12:00Z"))).toBe("@bob:example.org is on call, and nobody else is on the schedule");
  });

  it("a 1-member rota with a cover ahead: until the cover", () => {
    const r = rota({ members: [bob], overrides: [cover(1, alice, "2026-12-24T00:00Z", "2026-12-27T00:00Z")] });
    expect(whoText(r, [bob], T("2026-11-25T12:00Z")))
      .toBe("@bob:example.org is on call until Thu 24 Dec 00:00 (Europe/London); next: @alice:example.org");
  });

  it("a cover in a rota with no members: until it ends, nobody next", () => {
    const r = rota({ members: [], overrides: [cover(1, alice, "2026-11-24T00:00Z", "2026-11-27T00:00Z")] });
    expect(whoText(r, [], T("2026-11-25T12:00Z"))).toBe("@alice:example.org is on call (cover 1) until Fri 27 Nov 00:00 (Europe/London)");
  });
});
