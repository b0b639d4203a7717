import { Shift } from "../model/rota";
import { memberText } from "./shiftText";

/**
 * A rota's shifts as an iCalendar object (RFC 5545), for the calendar feed:
 * one VEVENT per shift, times in UTC, text escaped (§3.3.11), lines ended by
 * CRLF and folded at 75 octets without splitting a UTF-8 character (§3.1).
 * Pure: what to put in it is CalendarFeeds' business.
 */

export interface CalendarContent {
  /** The rota's address, `on-call@example.org`: the calendar's name and the UIDs' domain part. */
  address: string;
  /** The rota's zone, shown to people in the description. */
  zone: string;
  shifts: readonly Shift[];
  /** DTSTAMP: when this copy was made (ms since the epoch). */
  stamp: number;
}

const CRLF = "\r\n";
const MAX_OCTETS = 75;

/** `20261201T090000Z` (§3.3.5, form #2: UTC). */
export function utcStamp(at: number): string {
  return new Date(at).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** TEXT values (§3.3.11): backslash, semicolon, comma and newlines escaped. */
export function escapeText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/;/g, "\\;").replace(/,/g, "\\,").replace(/\r\n|\r|\n/g, "\\n");
}

/** One content line, folded (§3.1): at most 75 octets a line, each continuation starting with a space. */
export function foldLine(line: string): string {
  // Most lines are ASCII (as many octets as characters): cut without counting.
  if (Buffer.byteLength(line, "utf8") === line.length) {
    if (line.length <= MAX_OCTETS) return line;
    const pieces = [line.slice(0, MAX_OCTETS)];
    for (let at = MAX_OCTETS; at < line.length; at += MAX_OCTETS - 1) pieces.push(` ${line.slice(at, at + MAX_OCTETS - 1)}`);
    return pieces.join(CRLF);
  }
  const out: string[] = [];
  let current = "";
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char, "utf8");
    if (octets + size > MAX_OCTETS) {
      out.push(current);
      current = " ";
      octets = 1;
    }
    current += char;
    octets += size;
  }
  out.push(current);
  return out.join(CRLF);
}

function shiftEvent(shift: Shift, content: CalendarContent): string[] {
  const who = memberText(shift.member);
  const how = shift.overrideId === undefined ? "by the rotation" : `covering (cover ${shift.overrideId})`;
  return [
    "BEGIN:VEVENT",
    // One shift is known by its start: a change of who or until updates the same event.
    `UID:${utcStamp(shift.from)}-${content.address}`,
    `DTSTAMP:${utcStamp(content.stamp)}`,
    `DTSTART:${utcStamp(shift.from)}`,
    `DTEND:${utcStamp(shift.until)}`,
    `SUMMARY:${escapeText(`On call: ${who}`)}`,
    `DESCRIPTION:${escapeText(`${who} is on call for ${content.address} ${how}. Times of the rota are in ${content.zone}.`)}`,
    // Being on call does not make anyone busy in their calendar.
    "TRANSP:TRANSPARENT",
    "END:VEVENT",
  ];
}

/** The whole feed, CRLF line endings, every line folded. */
export function renderCalendar(content: CalendarContent): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//matrix-appservice-webcall//on-call rota//EN",
    "CALSCALE:GREGORIAN",
    `X-WR-CALNAME:${escapeText(`On call: ${content.address}`)}`,
    // RFC 7986: how often a subscriber should fetch it again.
    "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
    "X-PUBLISHED-TTL:PT1H",
    ...content.shifts.flatMap((shift) => shiftEvent(shift, content)),
    "END:VCALENDAR",
  ];
  return lines.map(foldLine).join(CRLF) + CRLF;
}
