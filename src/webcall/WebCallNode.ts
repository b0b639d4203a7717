import { SessionEvent, SetupRequest, SetupResponse } from "../protocol/types";

export interface RequestContext {
  requestId: string;
  /** The listener's monotonic clock when the request arrived, before its body
   *  was read: what a neutral answer's timing is measured from. */
  receivedAt: number;
  /** The node whose WebCall-Signature on the request checked out, if any. */
  signer?: string;
  /** How long checking the signature took (ms), keys fetched included. */
  signatureCheckMs?: number;
}

/**
 * What the WebCall listener asks of the bridge. The listener owns HTTP
 * (parsing, schemas, limits, streaming); the implementation owns sessions.
 * Failures are thrown as DomainError (errcode + message; the listener maps
 * the errcode to its HTTP status from src/errors/catalogue.ts).
 */
export interface WebCallNode {
  /** POST {endpoint}: a caller asks to ring calleeId. Idempotent per sessionId + token. */
  setup(request: SetupRequest, ctx: RequestContext): Promise<SetupResponse>;

  /** POST {endpoint}/sessions/{id}/events from the WebCall party.
   *  Throws 401 WEBCALL_BAD_TOKEN, 404 WEBCALL_UNKNOWN_SESSION, 410 WEBCALL_SESSION_OVER. */
  deliver(sessionId: string, token: string, events: SessionEvent[], ctx: RequestContext): Promise<void>;

  /** Authorises a pull and returns the events queued after `since`, whether the
   *  session is over, and the sequence number to resume from.
   *  Throws 401 WEBCALL_BAD_TOKEN or 404 WEBCALL_UNKNOWN_SESSION. */
  eventsSince(sessionId: string, token: string, since: number): Promise<{ events: SessionEvent[]; next: number; over: boolean }>;

  /** Calls `wake` whenever a new event is queued for the session (or it ends);
   *  returns the unsubscribe function. Used by SSE and long polls. */
  subscribe(sessionId: string, wake: () => void): () => void;
}
