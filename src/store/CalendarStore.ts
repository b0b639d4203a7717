import { RotaName } from "../model/rota";

/** A rota's calendar feed secret (007_rota_calendars.sql). */
export interface CalendarSecret {
  name: RotaName;
  /** base64url, in the feed's URL */
  secret: string;
  /** ms since the epoch */
  createdAt: number;
}

/**
 * The secrets of rotas' iCalendar feeds: at most one per rota, gone with the
 * rota. Made on first use and replaced on reset (src/rota/CalendarFeeds.ts).
 */
export interface CalendarStore {
  getCalendarSecret(name: RotaName): Promise<CalendarSecret | undefined>;
  /** Keeps `secret` unless the rota already has one; the one it has after. Undefined when there is no such rota. */
  putCalendarSecretIfNone(secret: CalendarSecret): Promise<CalendarSecret | undefined>;
  /** Replaces the rota's secret (the old URL stops working); false when there is no such rota. */
  replaceCalendarSecret(secret: CalendarSecret): Promise<boolean>;
}
