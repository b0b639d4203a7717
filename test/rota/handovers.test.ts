import { Rotation } from "../../src/model/rota";
import { anchorFor, handoversBetween, nextHandover, parseHandoverTime } from "../../src/rota/schedule";
import { T, iso, londonMonday } from "./fixtures";

const daily = (time: string, zone: string): Rotation => ({ every: "day", time, zone });
const weekly = (weekday: "mon" | "sun", time: string, zone: string): Rotation => ({ every: "week", weekday, time, zone });

describe("handover times", () => {
  it("reads HH:MM and nothing else", () => {
    expect(parseHandoverTime("09:00")).toBe(540);
    expect(parseHandoverTime("00:00")).toBe(0);
    expect(parseHandoverTime("23:59")).toBe(1439);
    for (const bad of ["24:00", "9:00", "09:60", "09:00:00", "", "ab:cd"]) expect(parseHandoverTime(bad)).toBeUndefined();
  });

  it("refuses to compute with a time that is not HH:MM (a bug upstream, not a guess)", () => {
    expect(() => anchorFor(daily("9am", "Europe/London"), T("2026-11-30T12:00Z"))).toThrow(RangeError);
  });
});

describe("weekly rotation, Monday 09:00 Europe/London", () => {
  it.each([
    ["a minute before the handover: the week before", "2026-11-30T08:59Z", "2026-11-23T09:00Z"],
    ["the handover itself", "2026-11-30T09:00Z", "2026-11-30T09:00Z"],
    ["mid-week", "2026-12-02T15:00Z", "2026-11-30T09:00Z"],
    ["Sunday night", "2026-12-06T23:59Z", "2026-11-30T09:00Z"],
    ["in summer, 09:00 is 08:00 UTC", "2026-07-08T12:00Z", "2026-07-06T08:00Z"],
  ])("anchor on %s", (_, at, anchor) => {
    expect(iso(anchorFor(londonMonday, T(at)))).toBe(anchor);
  });

  it("counts the handovers after the anchor up to and including `at`", () => {
    const anchor = T("2026-11-02T09:00Z");
    expect(handoversBetween(londonMonday, anchor, anchor)).toBe(0);
    expect(handoversBetween(londonMonday, anchor, T("2026-11-30T08:59Z"))).toBe(3);
    expect(handoversBetween(londonMonday, anchor, T("2026-11-30T09:00Z"))).toBe(4);
    expect(handoversBetween(londonMonday, anchor, T("2026-11-01T12:00Z"))).toBe(-1);
    // From summer time into winter time: 09:00 BST on 5 Oct, then weekly.
    expect(handoversBetween(londonMonday, T("2026-10-05T08:00Z"), T("2026-11-02T09:00Z"))).toBe(4);
  });

  it("gives the next handover, strictly after `at`", () => {
    expect(iso(nextHandover(londonMonday, T("2026-11-30T08:59Z")))).toBe("2026-11-30T09:00Z");
    expect(iso(nextHandover(londonMonday, T("2026-11-30T09:00Z")))).toBe("2026-12-07T09:00Z");
    // The week of the spring change is an hour short: 09:00 GMT to 09:00 BST.
    expect(iso(nextHandover(londonMonday, T("2026-03-23T09:00Z")))).toBe("2026-03-30T08:00Z");
  });
});

describe("daily rotation, 08:00 Europe/Berlin", () => {
  const rotation = daily("08:00", "Europe/Berlin");
  it("hands over every day at 08:00 local", () => {
    expect(iso(anchorFor(rotation, T("2026-12-02T06:59Z")))).toBe("2026-12-01T07:00Z"); // 07:59 CET
    expect(iso(anchorFor(rotation, T("2026-12-02T07:00Z")))).toBe("2026-12-02T07:00Z");
    expect(iso(nextHandover(rotation, T("2026-12-02T07:00Z")))).toBe("2026-12-03T07:00Z");
    expect(handoversBetween(rotation, T("2026-12-01T07:00Z"), T("2026-12-31T07:00Z"))).toBe(30);
  });
});

describe("daylight-saving changes, Europe/London", () => {
  // 2026-03-29: 01:00 GMT becomes 02:00 BST. 2026-10-25: 02:00 BST becomes 01:00 GMT.
  it("09:00 stays 09:00 local across the spring change, and a short day is still a day", () => {
    const rotation = daily("09:00", "Europe/London");
    expect(iso(nextHandover(rotation, T("2026-03-28T09:00Z")))).toBe("2026-03-29T08:00Z");
    // 47 hours from the 28th's handover to the 30th's are two handovers, not 1.96.
    expect(handoversBetween(rotation, T("2026-03-28T09:00Z"), T("2026-03-30T08:00Z"))).toBe(2);
    expect(handoversBetween(rotation, T("2026-03-28T09:00Z"), T("2026-03-29T07:59Z"))).toBe(0);
  });

  it("09:00 stays 09:00 local across the autumn change, and a long day is still a day", () => {
    const rotation = weekly("sun", "09:00", "Europe/London");
    expect(iso(nextHandover(rotation, T("2026-10-18T08:00Z")))).toBe("2026-10-25T09:00Z");
    const day = daily("09:00", "Europe/London");
    // 08:30 GMT on the 25th is 24.5 hours after the 24th's 09:00 BST, but still before 09:00 local.
    expect(handoversBetween(day, T("2026-10-24T08:00Z"), T("2026-10-25T08:30Z"))).toBe(0);
    expect(iso(anchorFor(day, T("2026-10-25T08:30Z")))).toBe("2026-10-24T08:00Z");
  });

  it("01:30 on the spring night does not exist: the handover is the first instant after the gap, 02:00 BST", () => {
    const rotation = daily("01:30", "Europe/London");
    expect(iso(nextHandover(rotation, T("2026-03-28T01:30Z")))).toBe("2026-03-29T01:00Z");
    expect(iso(anchorFor(rotation, T("2026-03-29T00:59Z")))).toBe("2026-03-28T01:30Z");
    expect(iso(anchorFor(rotation, T("2026-03-29T01:00Z")))).toBe("2026-03-29T01:00Z");
    expect(iso(nextHandover(rotation, T("2026-03-29T01:00Z")))).toBe("2026-03-30T00:30Z"); // 01:30 BST
    expect(handoversBetween(rotation, T("2026-03-28T01:30Z"), T("2026-03-30T00:30Z"))).toBe(2);
  });

  it("01:30 on the autumn night happens twice: the handover is the first, 01:30 BST", () => {
    const rotation = daily("01:30", "Europe/London");
    expect(iso(nextHandover(rotation, T("2026-10-24T00:30Z")))).toBe("2026-10-25T00:30Z");
    // 01:30 GMT, the second time the clock reads 01:30: no second handover.
    expect(iso(anchorFor(rotation, T("2026-10-25T01:30Z")))).toBe("2026-10-25T00:30Z");
    expect(iso(nextHandover(rotation, T("2026-10-25T00:30Z")))).toBe("2026-10-26T01:30Z");
    expect(handoversBetween(rotation, T("2026-10-24T00:30Z"), T("2026-10-26T01:30Z"))).toBe(2);
  });
});

describe("daylight-saving changes, America/New_York", () => {
  // 2026-03-08: 02:00 EST becomes 03:00 EDT. 2026-11-01: 02:00 EDT becomes 01:00 EST.
  it("a Monday 09:00 handover is 09:00 local in both offsets", () => {
    const rotation = weekly("mon", "09:00", "America/New_York");
    expect(iso(nextHandover(rotation, T("2026-03-02T14:00Z")))).toBe("2026-03-09T13:00Z");
    expect(iso(nextHandover(rotation, T("2026-10-26T13:00Z")))).toBe("2026-11-02T14:00Z");
    expect(handoversBetween(rotation, T("2026-03-02T14:00Z"), T("2026-11-02T14:00Z"))).toBe(35);
  });

  it("01:30 exists on the spring night (the gap is 02:00-03:00) and moves with the offset", () => {
    const rotation = daily("01:30", "America/New_York");
    expect(iso(nextHandover(rotation, T("2026-03-07T06:30Z")))).toBe("2026-03-08T06:30Z"); // 01:30 EST
    expect(iso(nextHandover(rotation, T("2026-03-08T06:30Z")))).toBe("2026-03-09T05:30Z"); // 01:30 EDT
  });

  it("02:30 on the spring night does not exist: 03:00 EDT", () => {
    const rotation = daily("02:30", "America/New_York");
    expect(iso(nextHandover(rotation, T("2026-03-07T07:30Z")))).toBe("2026-03-08T07:00Z");
    expect(iso(nextHandover(rotation, T("2026-03-08T07:00Z")))).toBe("2026-03-09T06:30Z");
  });

  it("01:30 on the autumn night happens twice: the first, 01:30 EDT", () => {
    const rotation = daily("01:30", "America/New_York");
    expect(iso(nextHandover(rotation, T("2026-10-31T05:30Z")))).toBe("2026-11-01T05:30Z");
    expect(iso(anchorFor(rotation, T("2026-11-01T06:45Z")))).toBe("2026-11-01T05:30Z"); // 01:45 EST
    expect(iso(nextHandover(rotation, T("2026-11-01T05:30Z")))).toBe("2026-11-02T06:30Z");
  });

  it("a daily 09:00 handover across both changes", () => {
    const rotation = daily("09:00", "America/New_York");
    expect(iso(nextHandover(rotation, T("2026-03-07T14:00Z")))).toBe("2026-03-08T13:00Z");
    expect(iso(nextHandover(rotation, T("2026-10-31T13:00Z")))).toBe("2026-11-01T14:00Z");
    expect(handoversBetween(rotation, T("2026-01-01T14:00Z"), T("2027-01-01T14:00Z"))).toBe(365);
  });
});

describe("a day that never happens", () => {
  // Samoa moved across the date line: 2011-12-29 23:59 (UTC-10) was followed by 2011-12-31 00:00 (UTC+14).
  it("its handover is the first instant after the gap, and it still counts as a day", () => {
    const rotation = daily("09:00", "Pacific/Apia");
    expect(iso(nextHandover(rotation, T("2011-12-29T19:00Z")))).toBe("2011-12-30T10:00Z"); // Sat 31 Dec 00:00 +14
    expect(iso(nextHandover(rotation, T("2011-12-30T10:00Z")))).toBe("2011-12-30T19:00Z"); // Sat 31 Dec 09:00 +14
    expect(handoversBetween(rotation, T("2011-12-29T19:00Z"), T("2011-12-30T19:00Z"))).toBe(2);
  });
});
