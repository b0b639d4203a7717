import { CATALOGUE, CatalogueEntry, Listener } from "./catalogue";
import { DomainError } from "./DomainError";

/** What an HTTP listener sends for a domain error. */
export interface HttpAnswer {
  status: number;
  body: { errcode: string; error: string };
  headers: Record<string, string>;
}

/**
 * The status, body and headers `listener` answers `error` with, from the
 * catalogue; undefined when the listener does not answer that problem (then
 * it is that listener's 500: the error is logged, never sent).
 */
export function httpAnswer(listener: Listener, error: DomainError): HttpAnswer | undefined {
  const entry: CatalogueEntry = CATALOGUE[error.problem];
  if (!entry.on.includes(listener)) return undefined;
  const headers: Record<string, string> = { ...entry.headers };
  if (error.retryAfterS !== undefined) headers["Retry-After"] = String(error.retryAfterS);
  return { status: entry.status, body: error.toJSON(), headers };
}

/** The HTTP status of a domain error, wherever it is answered (for telling a
 *  refusal, 4xx, from a failure that may pass, 5xx). */
export function statusOf(error: DomainError): number {
  return CATALOGUE[error.problem].status;
}
