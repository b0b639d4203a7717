import ICAL from "ical.js";
import { escapeText, foldLine, renderCalendar, utcStamp } from "../../src/rota/icalendar";
import { shifts } from "../../src/rota/schedule";
import { alice, bob, carol, cover, remote, rota, T } from "./fixtures";

/** The feed's text is checked by hand against RFC 5545, then read back by
 *  ical.js (Mozilla's parser, the one Thunderbird uses). */

const octets = (line: string): number => Buffer.byteLength(line, "utf8");

describe("RFC 5545 pieces", () => {
  test("times are UTC in the basic form", () => {
    expect(utcStamp(T("2026-12-01T09:00Z"))).toBe("20261201T090000Z");
    expect(utcStamp(T("2026-03-29T00:59:59.999Z"))).toBe("20260329T005959Z");
  });

  test("text escapes backslash, semicolon, comma and newlines", () => {
    expect(escapeText("a\\b;c,d\ne\r\nf")).toBe("a\\\\b\\;c\\,d\\ne\\nf");
  });

  test("a line of up to 75 octets is kept; a longer one folds into lines of at most 75 with a leading space", () => {
    const exact = "X".repeat(75);
    expect(foldLine(exact)).toBe(exact);
    const long = `SUMMARY:${"y".repeat(200)}`;
    const folded = foldLine(long).split("\r\n");
    expect(folded.length).toBe(3);
    for (const line of folded) expect(octets(line)).toBeLessThanOrEqual(75);
    expect(folded.slice(1).every((l) => l.startsWith(" "))).toBe(true);
    expect(folded.map((l, i) => (i === 0 ? l : l.slice(1))).join("")).toBe(long);
  });

  test("the lines fill up: 75 octets, then a space and 74", () => {
    expect(foldLine("a".repeat(149)).split("\r\n").map((l) => l.length)).toEqual([75, 75]);
    expect(foldLine("a".repeat(150)).split("\r\n").map((l) => l.length)).toEqual([75, 75, 2]);
    expect(foldLine(`${"a".repeat(74)}é`).split("\r\n")).toEqual(["a".repeat(74), " é"]);
  });

  test("folding never splits a UTF-8 character", () => {
    const long = `SUMMARY:${"é✓😀".repeat(40)}`;
    const folded = foldLine(long).split("\r\n");
    for (const line of folded) {
      expect(octets(line)).toBeLessThanOrEqual(75);
      expect(line).not.toContain("\uFFFD");
      // Each piece is whole characters: encoding and decoding it changes nothing.
      expect(Buffer.from(line, "utf8").toString("utf8")).toBe(line);
    }
    expect(folded.map((l, i) => (i === 0 ? l : l.slice(1))).join("")).toBe(long);
  });
});

describe("a rota's feed", () => {
  const now = T("2026-12-01T12:00Z");
  const team = rota({ overrides: [cover(1, carol, "2026-12-03T09:00Z", "2026-12-04T18:00Z")] });
  const members = [alice, bob, remote("dan;o,ne@hello.com")];
  const list = shifts(team, members, now, 5);
  const text = renderCalendar({ address: "on-call@example.org", zone: "Europe/London", shifts: list, stamp: now });

  test("CRLF line endings only, every line at most 75 octets", () => {
    expect(text.endsWith("\r\n")).toBe(true);
    expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    for (const line of text.split("\r\n")) expect(octets(line)).toBeLessThanOrEqual(75);
  });

  test("ical.js reads one VEVENT per shift with UID, DTSTAMP, UTC start and end, and the summary", () => {
    const calendar = new ICAL.Component(ICAL.parse(text));
    expect(calendar.name).toBe("vcalendar");
    expect(calendar.getFirstPropertyValue("version")).toBe("2.0");
    expect(calendar.getFirstPropertyValue("prodid")).toBe("-//matrix-appservice-webcall//on-call rota//EN");
    const events = calendar.getAllSubcomponents("vevent");
    expect(events).toHaveLength(list.length);
    const read = events.map((e) => {
      const event = new ICAL.Event(e);
      return {
        uid: event.uid, summary: event.summary,
        start: event.startDate.toJSDate().getTime(), end: event.endDate.toJSDate().getTime(),
        utc: event.startDate.zone === ICAL.Timezone.utcTimezone && event.endDate.zone === ICAL.Timezone.utcTimezone,
        stamp: (e.getFirstPropertyValue("dtstamp") as ICAL.Time).toJSDate().getTime(),
      };
    });
    expect(read.map((r) => [r.summary, r.start, r.end])).toEqual(list.map((s) => [
      `On call: ${s.member.kind === "matrix" ? s.member.userId : s.member.address}`, s.from, s.until,
    ]));
    expect(read.every((r) => r.utc && r.stamp === now)).toBe(true);
    expect(new Set(read.map((r) => r.uid)).size).toBe(list.length);
    // The cover shows as carol's, with its number in the description.
    const covered = events.find((e) => String(e.getFirstPropertyValue("summary")).includes("carol"));
    expect(String(covered?.getFirstPropertyValue("description"))).toMatch(/covering \(cover 1\)/);
  });

  test("escaped text reads back as it was", () => {
    const withRemote = rota({ members: members, since: "2026-11-30T09:00Z" });
    const remoteShift = shifts(withRemote, members, T("2026-12-15T12:00Z"), 1);
    const feed = renderCalendar({ address: "on-call@example.org", zone: "Europe/London", shifts: remoteShift, stamp: now });
    const event = new ICAL.Event(new ICAL.Component(ICAL.parse(feed)).getFirstSubcomponent("vevent")!);
    expect(event.summary).toBe("On call: dan;o,ne@hello.com");
    expect(feed).toContain("SUMMARY:On call: dan\\;o\\,ne@hello.com");
  });

  test("no shifts is still a valid, empty calendar", () => {
    const empty = renderCalendar({ address: "on-call@example.org", zone: "UTC", shifts: [], stamp: now });
    const calendar = new ICAL.Component(ICAL.parse(empty));
    expect(calendar.getAllSubcomponents("vevent")).toEqual([]);
  });
});
