/**
 * Wall-clock time in IANA zones, via Intl (no tz database of our own).
 * Rules are read in their zone on every call, so formatters are built once
 * per zone and kept; building one costs far more than using it.
 */

/** A moment as read on a clock in some zone. weekday: 0 = Monday … 6 = Sunday. */
export interface WallClock {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
  weekday: number;
  /** minutes since local midnight, 0–1439 */
  minutes: number;
  seconds: number;
}

const WEEKDAY_INDEX: Readonly<Record<string, number>> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

// Zone names come from users, and Intl accepts any casing of each name, so
// the cache is capped rather than trusted to stay small.
const MAX_CACHED_ZONES = 1000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    // Throws RangeError for an unknown zone, before anything is cached.
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23", // "00" at midnight, never "24"
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    if (formatters.size >= MAX_CACHED_ZONES) formatters.clear();
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The zone's canonical name (`europe/london` → `Europe/London`), or undefined
 *  when Intl does not know it. */
export function canonicalTimeZone(name: string): string | undefined {
  if (name.length === 0 || name.length > 64) return undefined;
  try {
    return new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The name to store for a zone users typed: its proper casing
 *  (`europe/london` → `Europe/London`), but not another name for it (Intl
 *  would turn `EST` into `America/Panama`); undefined when unknown. */
export function normalTimeZone(name: string): string | undefined {
  const canonical = canonicalTimeZone(name);
  if (canonical === undefined) return undefined;
  return canonical.toLowerCase() === name.toLowerCase() ? canonical : name;
}

export function isTimeZone(name: string): boolean {
  return canonicalTimeZone(name) !== undefined;
}

/** Reads the clock in `zone` at `at` (ms since the epoch). Throws RangeError
 *  for an unknown zone. */
export function wallClock(at: number, zone: string): WallClock {
  if (zone === "UTC") {
    // The default zone of every rule: plain arithmetic, no Intl.
    const d = new Date(at);
    return {
      year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
      weekday: (d.getUTCDay() + 6) % 7,
      minutes: d.getUTCHours() * 60 + d.getUTCMinutes(), seconds: d.getUTCSeconds(),
    };
  }
  const clock: WallClock = { year: 0, month: 0, day: 0, weekday: 0, minutes: 0, seconds: 0 };
  for (const part of formatterFor(zone).formatToParts(at)) {
    switch (part.type) {
      case "year": clock.year = Number(part.value); break;
      case "month": clock.month = Number(part.value); break;
      case "day": clock.day = Number(part.value); break;
      case "weekday": clock.weekday = WEEKDAY_INDEX[part.value] ?? 0; break;
      case "hour": clock.minutes += Number(part.value) * 60; break;
      case "minute": clock.minutes += Number(part.value); break;
      case "second": clock.seconds = Number(part.value); break;
    }
  }
  return clock;
}

/** How far `zone` is ahead of UTC at `at`, in ms. */
function offsetAt(at: number, zone: string): number {
  const whole = at - (((at % 60_000) + 60_000) % 60_000); // the zone is read to the minute
  const c = wallClock(whole, zone);
  return Date.UTC(c.year, c.month - 1, c.day, 0, c.minutes) - whole;
}

/**
 * The moment a clock in `zone` shows the given date and time. Like Temporal's
 * "compatible" choice: a time that happens twice (clocks going back) is the
 * earlier one; a time that never happens (clocks going forward) is read with
 * the offset before the change, so 01:30 on a spring-forward night at 01:00
 * becomes 02:30.
 */
export function wallToEpoch(year: number, month: number, day: number, minutes: number, zone: string): number {
  const asUtc = Date.UTC(year, month - 1, day, 0, minutes);
  // Zone changes are far less than a day apart from anything else, so the
  // offsets a day either side are the only two candidates.
  const before = offsetAt(asUtc - 86_400_000, zone);
  const after = offsetAt(asUtc + 86_400_000, zone);
  const candidates = [asUtc - before, asUtc - after].filter((t) => offsetAt(t, zone) === asUtc - t);
  return candidates.length > 0 ? Math.min(...candidates) : asUtc - before;
}

/** The calendar date `days` after the given one. */
export function addDays(year: number, month: number, day: number, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
