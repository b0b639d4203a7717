import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Rota, RotaMember, RotaName, tryParseRotaName } from "../model/rota";
import { CalendarStore } from "../store/CalendarStore";
import { renderCalendar } from "./icalendar";
import { shifts } from "./schedule";

/**
 * Rotas' iCalendar feeds behind a secret URL per rota:
 * `{webcall.publicUrl}/calendar/{name}/{secret}.ics`. The secret (32 random
 * bytes, base64url) is made the first time someone asks for the URL and
 * replaced by `rota calendar reset`; it is compared in constant time, and a
 * wrong secret is answered exactly as a rota that does not exist.
 */

export interface CalendarFeedOptions {
  /** webcall.publicUrl: the feed is served on the public WebCall listener, under its path. */
  publicUrl: string;
  /** This homeserver's domain: the rota's address is name@domain. */
  domain: string;
  /** The rotation order of a rota (its own, or its room's joined members). */
  membersOf(rota: Rota): Promise<RotaMember[]>;
  /** Finds a rota by name. */
  rota(name: RotaName): Promise<Rota | undefined>;
}

/** What a feed request gets: the body and a validator of its meaning. */
export interface CalendarFeed {
  body: string;
  /** A weak ETag: the same shifts give the same tag, whatever DTSTAMP says. */
  etag: string;
}

/** Weeks of shifts a feed holds, and the most a client may ask for. */
export const FEED_WEEKS = 8;
export const MAX_FEED_WEEKS = 52;
/** Shifts in one feed at most: a year of daily handovers with every cover splitting one. */
const MAX_FEED_SHIFTS = 1000;
const WEEK_MS = 7 * 86_400_000;

const SECRET = /^[A-Za-z0-9_-]{43}$/;

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/** Whether two secrets are equal, in time that does not depend on where they differ. */
function sameSecret(given: string, stored: string): boolean {
  return timingSafeEqual(digest(given), digest(stored));
}

export class CalendarFeeds {
  constructor(private readonly store: CalendarStore, private readonly opts: CalendarFeedOptions) {}

  /** The rota's feed URL, making its secret if it has none yet. Undefined when the rota is gone. */
  async urlFor(rota: Rota, now: number): Promise<string | undefined> {
    const existing = await this.store.getCalendarSecret(rota.name);
    const kept = existing ?? (await this.store.putCalendarSecretIfNone({ name: rota.name, secret: newSecret(), createdAt: now }));
    return kept && this.url(rota.name, kept.secret);
  }

  /** A new secret for the rota: the old URL stops working at once. The new URL, or undefined when the rota is gone. */
  async reset(rota: Rota, now: number): Promise<string | undefined> {
    const secret = newSecret();
    return (await this.store.replaceCalendarSecret({ name: rota.name, secret, createdAt: now })) ? this.url(rota.name, secret) : undefined;
  }

  /** The feed for `name` and `secret` (as in the URL), or undefined when
   *  either is wrong, with no way to tell which. */
  async feed(name: string, secret: string, now: number, weeks = FEED_WEEKS): Promise<CalendarFeed | undefined> {
    const rotaName = tryParseRotaName(name);
    const stored = rotaName && (await this.store.getCalendarSecret(rotaName));
    // Compared even when there is nothing to compare with, so both answers take the same work.
    const match = sameSecret(secret, stored?.secret ?? "") && stored !== undefined && SECRET.test(secret);
    if (!match || !rotaName) return undefined;
    const rota = await this.opts.rota(rotaName);
    if (!rota) return undefined;
    const members = await this.opts.membersOf(rota);
    const span = Math.min(Math.max(1, Math.floor(weeks)), MAX_FEED_WEEKS);
    const until = now + span * WEEK_MS;
    // At most a shift a day, and each cover splits one in three: no more can start before `until`.
    const most = Math.min(span * 7 + 2 * rota.overrides.length + 2, MAX_FEED_SHIFTS);
    const list = shifts(rota, members, now, most).filter((s) => s.from < until);
    const content = { address: `${rota.name}@${this.opts.domain.toLowerCase()}`, zone: rota.rotation.zone, shifts: list };
    const body = renderCalendar({ ...content, stamp: now });
    // The tag is of everything but the DTSTAMPs (short lines, never folded): the same shifts, the same tag.
    const etag = `W/"${digest(body.replace(/\r\nDTSTAMP:[0-9TZ]+/g, "")).subarray(0, 18).toString("base64url")}"`;
    return { body, etag };
  }

  private url(name: RotaName, secret: string): string {
    const base = this.opts.publicUrl.replace(/\/+$/, "");
    return `${base}/calendar/${encodeURIComponent(name)}/${secret}.ics`;
  }
}

function newSecret(): string {
  return randomBytes(32).toString("base64url");
}
