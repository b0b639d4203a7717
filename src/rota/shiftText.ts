import { Rota, RotaMember, Shift } from "../model/rota";
import { wallClock } from "../rules/zone";
import { memberKey, onCallAt, shifts } from "./schedule";

/**
 * The schedule in words, for the bot's `rota who` and `rota shifts` (and the
 * room's notices): times in the rota's zone, as "Mon 1 Dec 09:00", the year
 * only when it is not the year the text is about.
 */

const WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/** A member as people write them: `@bob:example.org`, `carol@hello.com`. */
export function memberText(m: RotaMember): string {
  return m.kind === "matrix" ? m.userId : m.address;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "Mon 1 Dec 09:00" in `zone`; "Mon 1 Dec 2027 09:00" when the year is not `year`. */
export function whenText(at: number, zone: string, year = wallClock(at, zone).year): string {
  const c = wallClock(at, zone);
  const date = `${WEEKDAY_NAMES[c.weekday]} ${c.day} ${MONTH_NAMES[c.month - 1]}${c.year === year ? "" : ` ${c.year}`}`;
  return `${date} ${pad(Math.floor(c.minutes / 60))}:${pad(c.minutes % 60)}`;
}

const coverText = (shift: Shift) => (shift.overrideId === undefined ? "" : ` (cover ${shift.overrideId})`);

/** "Mon 1 Dec 09:00 – Mon 8 Dec 09:00  @bob:example.org (cover 2)". */
export function shiftLine(shift: Shift, zone: string, year?: number): string {
  return `${whenText(shift.from, zone, year)} – ${whenText(shift.until, zone, year)}  ${memberText(shift.member)}${coverText(shift)}`;
}

/** How far `rota who` looks ahead for the next person: two years of weekly shifts. */
const WHO_LOOKAHEAD = 104;

/**
 * `rota who`: "@bob:example.org is on call until Mon 1 Dec 09:00
 * (Europe/London); next: @alice:example.org". "Until" is when someone else
 * takes over, so consecutive shifts of the same person (a cover by the
 * member on call, a 1-member rota) read as one.
 */
export function whoText(rota: Rota, members: readonly RotaMember[], at: number): string {
  const now = onCallAt(rota, members, at);
  if (!now) return "Nobody is on call: the rota has no members, and no cover now.";
  const zone = rota.rotation.zone;
  const ahead = shifts(rota, members, now.until, WHO_LOOKAHEAD);
  const same = memberKey(now.member);
  let until = now.until;
  let i = 0;
  while (i < ahead.length && ahead[i]!.from === until && memberKey(ahead[i]!.member) === same) until = ahead[i++]!.until;
  const who = `${memberText(now.member)} is on call${coverText(now)}`;
  if (i === WHO_LOOKAHEAD) return `${who}, and nobody else is on the schedule`;
  const next = ahead[i];
  return `${who} until ${whenText(until, zone, wallClock(at, zone).year)} (${zone})` + (next ? `; next: ${memberText(next.member)}` : "");
}

/** `rota shifts`: a heading and one line per shift, from the one in force at `from`. */
export function shiftsText(rota: Rota, members: readonly RotaMember[], from: number, count: number): string {
  const zone = rota.rotation.zone;
  const list = shifts(rota, members, from, count);
  if (list.length === 0) return `No shifts for ${rota.name}: the rota has no members, and no cover ahead.`;
  const year = wallClock(from, zone).year;
  return [`Shifts of ${rota.name} (${zone}):`, ...list.map((shift) => shiftLine(shift, zone, year))].join("\n");
}
