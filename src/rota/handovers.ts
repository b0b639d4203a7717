import { Rotation } from "../model/rota";
import { WEEKDAYS } from "../model/rules";
import { addDays, wallClock, wallToEpoch } from "../rules/zone";

/**
 * When a rotation hands over, in its zone's local time (docs/rotas.md). A
 * handover is named by its local date; its moment is that date's HH:MM read
 * in the zone, so a 09:00 handover is 09:00 on both sides of a daylight-saving
 * change. Two local times are special:
 *   - one that does not exist that day (clocks going forward over it) hands
 *     over at the first instant after the gap: 01:30 on a night London jumps
 *     from 01:00 to 02:00 is 02:00 BST;
 *   - one that happens twice (clocks going back) hands over at its first
 *     occurrence: 01:30 on a night London goes from 02:00 back to 01:00 is
 *     01:30 BST.
 * Counting is by local dates, never by dividing milliseconds: a day with a
 * change is 23 or 25 hours long and still one day.
 */

export interface LocalDate { year: number; month: number; day: number }

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const HH_MM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

/** "HH:MM" (00:00-23:59) as minutes since local midnight, or undefined. */
export function parseHandoverTime(text: string): number | undefined {
  const m = HH_MM.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

function minutesOf(rotation: Rotation): number {
  const minutes = parseHandoverTime(rotation.time);
  // The bot and the API check the time before a rotation is saved: one that
  // is not HH:MM here is a bug, not a user's mistake.
  if (minutes === undefined) throw new RangeError(`rotation time ${JSON.stringify(rotation.time)} is not HH:MM`);
  return minutes;
}

/** Days between 1970-01-01 and the date: how dates are counted and compared. */
export function dayNumber(date: LocalDate): number {
  return Date.UTC(date.year, date.month - 1, date.day) / DAY_MS;
}

/** Days from one handover to the next. */
export function periodDays(rotation: Rotation): number {
  return rotation.every === "week" ? 7 : 1;
}

/** The local clock reading (as if it were UTC) at `at`, to the second. */
function localReading(at: number, zone: string): number {
  const c = wallClock(at, zone);
  return Date.UTC(c.year, c.month - 1, c.day, 0, c.minutes, c.seconds);
}

/** The moment of the handover on a local date (see above for gaps and repeats). */
export function handoverOn(rotation: Rotation, date: LocalDate): number {
  const minutes = minutesOf(rotation);
  const zone = rotation.zone;
  const t = wallToEpoch(date.year, date.month, date.day, minutes, zone);
  const wanted = Date.UTC(date.year, date.month - 1, date.day, 0, minutes);
  const gap = localReading(t, zone) - wanted;
  // wallToEpoch reads a time in a gap with the offset before the change, so
  // the clock at t is ahead of the wanted time by the gap's size; the change
  // itself lies in (t - gap, t]. Find its first minute by bisection (zones
  // change on whole minutes; a gap is an hour or so: about six readings).
  if (gap <= 0) return t;
  let lo = t - gap; // before the change: the clock there is behind by more than t's
  let hi = t;
  const offsetAfter = localReading(t, zone) - t;
  while (hi - lo > MINUTE_MS) {
    // On whole minutes from lo, and always at least one past it (an old
    // local-mean-time offset in seconds would otherwise stall the loop).
    const mid = lo + Math.max(1, Math.floor((hi - lo) / 2 / MINUTE_MS)) * MINUTE_MS;
    if (localReading(mid, zone) - mid === offsetAfter) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The local date of the latest handover at or before `at`, and its moment. */
export function latestHandover(rotation: Rotation, at: number): { date: LocalDate; at: number } {
  const today = wallClock(at, rotation.zone);
  const back = rotation.every === "week"
    ? (today.weekday - WEEKDAYS.indexOf(rotation.weekday) + 7) % 7
    : 0;
  let date = addDays(today.year, today.month, today.day, -back);
  let moment = handoverOn(rotation, date);
  // The handover on that date may still be ahead of `at` (it is 08:00 and
  // the handover is at 09:00): then it is the one a period earlier.
  if (moment > at) {
    date = addDays(date.year, date.month, date.day, -periodDays(rotation));
    moment = handoverOn(rotation, date);
  }
  return { date, at: moment };
}

/** The handover `periods` periods after the one on `date`. */
export function handoverAfter(rotation: Rotation, date: LocalDate, periods: number): { date: LocalDate; at: number } {
  const next = addDays(date.year, date.month, date.day, periods * periodDays(rotation));
  return { date: next, at: handoverOn(rotation, next) };
}
