import { Request } from "express";
import { DomainError } from "../errors/DomainError";

/**
 * The numbers a pull brings: its position (`Last-Event-ID` or `?since=`) and
 * its wait (`?timeout=`). A position is a session event's sequence number,
 * which the store keeps in a 32-bit integer column (party_events.seq), so one
 * past 2^31-1 can name no event: it is refused here with a 400 naming the
 * field, instead of reaching the query and failing there as a 500.
 */

/** The largest pull position: PostgreSQL's `integer`. */
export const MAX_PULL_POSITION = 2_147_483_647;

const DIGITS = /^(0|[1-9][0-9]*)$/;

/** `raw` as an integer in 0..max, or undefined if it is not one. */
function boundedInteger(raw: string, max: number): number | undefined {
  if (raw.length > String(max).length || !DIGITS.test(raw)) return undefined;
  const n = Number(raw);
  return n <= max ? n : undefined;
}

/** The position to pull after: `Last-Event-ID` wins over `?since=`; default 0. */
export function pullPosition(req: Request): number {
  const lastEventId = req.get("last-event-id");
  const fromHeader = lastEventId !== undefined && lastEventId !== "";
  const raw = fromHeader ? lastEventId : req.query.since;
  if (raw === undefined) return 0;
  const n = typeof raw === "string" ? boundedInteger(raw, MAX_PULL_POSITION) : undefined;
  if (n === undefined) {
    throw new DomainError("WEBCALL_BAD_REQUEST",
      `${fromHeader ? "header/Last-Event-ID" : "query/since"} must be an integer from 0 to ${MAX_PULL_POSITION}`);
  }
  return n;
}

/** How long a long poll may wait (ms): `?timeout=`, cut to `maxMs`; default `maxMs`. */
export function pullWaitMs(req: Request, maxMs: number): number {
  const raw = req.query.timeout;
  if (raw === undefined) return maxMs;
  const n = typeof raw === "string" ? boundedInteger(raw, Number.MAX_SAFE_INTEGER) : undefined;
  if (n === undefined) {
    throw new DomainError("WEBCALL_BAD_REQUEST",
      `query/timeout must be an integer from 0 to ${Number.MAX_SAFE_INTEGER} (ms; longer waits are cut to ${maxMs})`);
  }
  return Math.min(n, maxMs);
}
