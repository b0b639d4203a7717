import { Rota } from "../../src/model/rota";
import { Announced, REMINDER_MS, planAnnouncements } from "../../src/rota/announcements";
import { memberKey } from "../../src/rota/schedule";
import { T, alice, bob, carol, cover, iso, rota } from "./fixtures";

/**
 * The timing of handover announcements and reminders (src/rota/announcements.ts),
 * with the clock given: who is announced when, each once, what is said
 * after downtime, and when the next wake is, across daylight-saving changes.
 * The weekly rota of the fixtures: alice from Mon 2 Nov 09:00 London, then
 * bob, carol, alice … (bob from 30 Nov, carol from 7 Dec).
 */
describe("handover announcements", () => {
  const HOUR = 3_600_000;
  const CAP = 10 * 60_000;
  const weekly = rota();
  const plan = (r: Rota, at: string, told: Announced | undefined, cap = 7 * 24 * HOUR) => planAnnouncements(r, r.members!, T(at), told, cap);
  const told = (member: typeof alice | null, from: string | null, reminded: string | null = null): Announced =>
    ({ member: member && memberKey(member), shiftFrom: from === null ? null : T(from), reminded });

  test("a rota new to the announcer: nothing is said, the present is remembered, the next wake is the reminder", () => {
    const p = plan(weekly, "2026-12-01T12:00Z", undefined);
    expect(p.announce).toBeUndefined();
    expect(p.remind).toBeUndefined();
    expect(p.next).toEqual({ member: memberKey(bob), shiftFrom: T("2026-11-30T09:00Z"), reminded: null });
    // carol's shift starts Mon 7 Dec 09:00 GMT: reminded at 08:00.
    expect(iso(p.wakeAt)).toBe("2026-12-07T08:00Z");
  });

  test("at the handover the room is told who is on call until when, mentioning them; told once", () => {
    const p = plan(weekly, "2026-12-07T09:00Z", told(bob, "2026-11-30T09:00Z"));
    expect(p.announce).toEqual({
      body: "@carol:example.org is on call until Mon 14 Dec 09:00 (Europe/London); next: @alice:example.org",
      mentions: ["@carol:example.org"], key: `announce.${memberKey(carol)}@${T("2026-12-07T09:00Z")}`,
    });
    expect(p.next).toMatchObject({ member: memberKey(carol), shiftFrom: T("2026-12-07T09:00Z") });
    const again = plan(weekly, "2026-12-07T09:00:30Z", { ...p.next });
    expect(again.announce).toBeUndefined();
    expect(again.next).toEqual(p.next);
  });

  test("an hour before their shift the next member is reminded, once; not before the hour", () => {
    const early = plan(weekly, "2026-12-07T07:59Z", told(bob, "2026-11-30T09:00Z"));
    expect(early.remind).toBeUndefined();
    expect(iso(early.wakeAt)).toBe("2026-12-07T08:00Z");
    const due = plan(weekly, "2026-12-07T08:00Z", told(bob, "2026-11-30T09:00Z"));
    expect(due.announce).toBeUndefined();
    expect(due.remind).toEqual({
      body: "Reminder: @carol:example.org is on call from Mon 7 Dec 09:00 until Mon 14 Dec 09:00 (Europe/London)",
      mentions: ["@carol:example.org"], key: `remind.${memberKey(carol)}@${T("2026-12-07T09:00Z")}`,
    });
    expect(iso(due.wakeAt)).toBe("2026-12-07T09:00Z");
    expect(plan(weekly, "2026-12-07T08:30Z", due.next).remind).toBeUndefined();
  });

  test("after downtime only the present is announced, once; missed handovers and reminders are not", () => {
    // Last told: alice, on 23 Nov; the bridge was down until Wed 9 Dec (bob's week passed, carol's began).
    const p = plan(weekly, "2026-12-09T15:00Z", told(alice, "2026-11-23T09:00Z"));
    expect(p.announce?.body).toMatch(/^@carol:example\.org is on call until Mon 14 Dec 09:00/);
    expect(p.remind).toBeUndefined();
    // Down across a reminder's hour: the reminder comes late only while the shift has not begun.
    const late = plan(weekly, "2026-12-07T08:45Z", told(bob, "2026-11-30T09:00Z"));
    expect(late.announce).toBeUndefined();
    expect(late.remind?.body).toMatch(/^Reminder: @carol:example\.org/);
  });

  test("overrides: a cover starting and ending are each announced; the cover's member is reminded", () => {
    const covered = rota({ overrides: [cover(1, alice, "2026-12-02T12:00Z", "2026-12-03T18:00Z")] });
    const reminder = plan(covered, "2026-12-02T11:00Z", told(bob, "2026-11-30T09:00Z"));
    expect(reminder.remind?.body).toBe("Reminder: @alice:example.org is on call (cover 1) from Wed 2 Dec 12:00 until Thu 3 Dec 18:00 (Europe/London)");
    const starts = plan(covered, "2026-12-02T12:00Z", reminder.next);
    expect(starts.announce?.body).toBe("@alice:example.org is on call (cover 1) until Thu 3 Dec 18:00 (Europe/London); next: @bob:example.org");
    expect(iso(starts.wakeAt)).toBe("2026-12-03T17:00Z");
    const ends = plan(covered, "2026-12-03T18:00Z", starts.next);
    expect(ends.announce?.body).toBe("@bob:example.org is on call until Mon 7 Dec 09:00 (Europe/London); next: @carol:example.org");
    expect(ends.announce?.mentions).toEqual(["@bob:example.org"]);
  });

  test("one member: the same person's next shift is neither announced nor reminded", () => {
    const solo = rota({ members: [bob] });
    const p = plan(solo, "2026-12-07T09:00Z", told(bob, "2026-11-30T09:00Z"));
    expect(p.announce).toBeUndefined();
    expect(p.remind).toBeUndefined();
    expect(p.next.shiftFrom).toBe(T("2026-12-07T09:00Z"));
  });

  test("across daylight-saving changes the wakes stay on the local clock (London spring, New York autumn)", () => {
    const london = rota({ rotation: { every: "day", time: "09:00", zone: "Europe/London" }, since: "2027-03-20T09:00Z" });
    // Sat 27 Mar 09:00 GMT is 09:00Z; Sun 28 Mar 09:00 BST is 08:00Z.
    const before = plan(london, "2027-03-27T09:30Z", undefined);
    expect(iso(before.wakeAt)).toBe("2027-03-28T07:00Z");
    expect(iso(plan(london, "2027-03-28T07:00Z", before.next).wakeAt)).toBe("2027-03-28T08:00Z");
    const handover = plan(london, "2027-03-28T08:00Z", before.next);
    expect(handover.announce?.body).toMatch(/until Mon 29 Mar 09:00 \(Europe\/London\)/);
    const ny = rota({ rotation: { every: "day", time: "09:00", zone: "America/New_York" }, since: "2026-10-25T13:00Z" });
    // Sat 31 Oct 09:00 EDT is 13:00Z; Sun 1 Nov 09:00 EST is 14:00Z, reminded at 13:00Z.
    expect(iso(plan(ny, "2026-10-31T13:30Z", undefined).wakeAt)).toBe("2026-11-01T13:00Z");
    expect(REMINDER_MS).toBe(HOUR);
  });

  test("the wait is capped, so an edit made elsewhere is seen; nobody on call is not announced", () => {
    expect(plan(weekly, "2026-12-01T12:00Z", undefined, CAP).wakeAt).toBe(T("2026-12-01T12:00Z") + CAP);
    const empty = rota({ members: [] });
    const p = plan(empty, "2026-12-01T12:00Z", told(bob, "2026-11-30T09:00Z"), CAP);
    expect(p.announce).toBeUndefined();
    expect(p.next.member).toBeNull();
  });
});
