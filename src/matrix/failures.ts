import { DomainError } from "../errors/DomainError";
import { statusOf } from "../errors/httpAnswer";

/**
 * Whether an event's handler failed for a reason that may pass (try again
 * later) or one that will not (trying again gives the same answer). The
 * homeserver retries a failed transaction whole and in order, so only a
 * passing failure may fail it: a lasting one would block every event behind
 * it for good (a withdrawn invite's join is refused 403 on every retry).
 */
export type FailureKind = "passing" | "lasting";

/** Node's socket and DNS errors: the homeserver or the database could not be reached. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN",
  "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EHOSTDOWN", "ESOCKETTIMEDOUT",
]);

/**
 * PostgreSQL SQLSTATE classes that describe the server's condition rather
 * than the statement: connection exceptions (08), transaction rollbacks such
 * as serialization failures and deadlocks (40), insufficient resources (53),
 * operator intervention such as a shutdown or a cancelled statement (57),
 * system errors (58) and internal errors (XX).
 */
const PASSING_SQL_CLASSES = new Set(["08", "40", "53", "57", "58", "XX"]);

/** What node-postgres and PGlite say, without a code, when the database is gone or closing. */
const PASSING_DB_MESSAGES = /connection terminated|timeout exceeded when trying to connect|connection error|pool after calling end|pglite is closed|database is closing/i;

export function failureKind(error: unknown): FailureKind {
  const e = error as { status?: unknown; code?: unknown; message?: unknown } | null | undefined;
  if (typeof e !== "object" || e === null) return "lasting";
  // An HTTP answer: the homeserver's (MatrixRequestError) or one of ours (a
  // DomainError, whose status is the catalogue's). 4xx says the request
  // itself is refused, except 408 and 429, which say "not now".
  const status = error instanceof DomainError ? statusOf(error) : e.status;
  if (typeof status === "number") {
    return status >= 400 && status < 500 && status !== 408 && status !== 429 ? "lasting" : "passing";
  }
  if (typeof e.code === "string") {
    if (NETWORK_CODES.has(e.code) || e.code.startsWith("UND_ERR_") || e.code.startsWith("ERR_SOCKET_")) return "passing";
    if (/^[0-9A-Z]{5}$/.test(e.code)) return PASSING_SQL_CLASSES.has(e.code.slice(0, 2)) ? "passing" : "lasting";
  }
  if (typeof e.message === "string" && PASSING_DB_MESSAGES.test(e.message)) return "passing";
  // Anything else is the bridge's own bug (a TypeError, a broken invariant):
  // it fails the same way on every retry.
  return "lasting";
}

/** A short reason for the log: the homeserver's status and errcode when there is one. */
export function failureReason(error: unknown): string {
  const e = error as { status?: unknown; errcode?: unknown; code?: unknown; message?: unknown } | null | undefined;
  const message = typeof e?.message === "string" ? e.message : String(error);
  if (typeof e?.status === "number" && typeof e.errcode === "string") return `${e.status} ${e.errcode}: ${message}`;
  if (typeof e?.code === "string") return `${e.code}: ${message}`;
  return message;
}
