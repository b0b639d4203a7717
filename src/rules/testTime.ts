import { WEEKDAYS } from "../model/rules";
import { Words, dayByName, parseClock } from "./words";
import { addDays, wallClock, wallToEpoch } from "./zone";

/**
 * The moment in `test … at <time>`. Users think in their own wall clock, so
 * everything but an ISO time with an offset is read in their zone, across
 * daylight-saving changes (see wallToEpoch).
 */

const EXPECTED = "a time like 10:00, mon 10:00 or 2026-11-23 10:00";
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})t(\d{2}):(\d{2})(?::(\d{2}))?(z|[+-]\d{2}:\d{2})?$/;

interface Day { year: number; month: number; day: number }

function realDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** The clock time that follows the day, as epoch ms in `zone`. */
function atClock(words: Words, date: Day, zone: string): number {
  const word = words.next();
  const clock = parseClock(word) ?? words.fail("a time of day like 10:00", word);
  const minutes = Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3));
  return wallToEpoch(date.year, date.month, date.day, minutes, zone);
}

function fromIso(words: Words, m: RegExpExecArray, zone: string): number {
  const [year, month, day, hours, minutes, seconds] = m.slice(1, 7).map((part) => Number(part ?? 0)) as number[] as
    [number, number, number, number, number, number];
  if (!realDate(year, month, day) || hours > 23 || minutes > 59 || seconds > 59) words.fail(EXPECTED, m[0]);
  const offset = m[7];
  if (offset === undefined) return wallToEpoch(year, month, day, hours * 60 + minutes, zone) + seconds * 1000;
  const utc = Date.UTC(year, month - 1, day, hours, minutes, seconds);
  if (offset === "z") return utc;
  const sign = offset.startsWith("-") ? -1 : 1;
  return utc - sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000;
}

/** Reads the time after `at`: `10:00` (today), `mon 10:00` (the next Monday,
 *  today included), `today`/`tomorrow 10:00`, `2026-11-23 10:00`, an ISO
 *  time (`2026-11-23T10:00Z`) or `now`. */
export function parseTestTime(words: Words, zone: string, now: number): number {
  const word = words.keyword();
  if (word === undefined) words.fail(EXPECTED);
  if (word === "now") {
    words.next();
    return now;
  }
  const today = wallClock(now, zone);
  const iso = ISO.exec(word);
  if (iso) {
    words.next();
    return fromIso(words, iso, zone);
  }
  const date = DATE.exec(word);
  if (date) {
    const [year, month, day] = date.slice(1, 4).map(Number) as [number, number, number];
    if (!realDate(year, month, day)) words.fail(`a real date like 2026-11-23`);
    words.next();
    return atClock(words, { year, month, day }, zone);
  }
  const weekday = dayByName(word);
  if (weekday !== undefined || word === "today" || word === "tomorrow") {
    words.next();
    const ahead = word === "today" ? 0 : word === "tomorrow" ? 1 : (WEEKDAYS.indexOf(weekday!) - today.weekday + 7) % 7;
    return atClock(words, addDays(today.year, today.month, today.day, ahead), zone);
  }
  if (parseClock(word) !== undefined) return atClock(words, today, zone);
  words.fail(EXPECTED);
}
