/**
 * Every errcode the WebCall listener can answer with, and its HTTP status:
 * the catalogue docs/webcall-protocol.md ("Errors") documents. A test
 * (test/docs/protocolDoc.test.ts) holds the three together: the doc's table,
 * this list, and every BridgeError with a WEBCALL_ errcode in src/.
 */
export const WEBCALL_ERRCODES = {
  WEBCALL_BAD_JSON: 400,
  WEBCALL_BAD_REQUEST: 400,
  WEBCALL_BAD_ADDRESS: 400,
  WEBCALL_BAD_EVENT: 400,
  WEBCALL_MISSING_TOKEN: 401,
  WEBCALL_BAD_TOKEN: 401,
  WEBCALL_BAD_SIGNATURE: 401,
  WEBCALL_UNKNOWN_SESSION: 404,
  WEBCALL_NOT_FOUND: 404,
  WEBCALL_METHOD_NOT_ALLOWED: 405,
  WEBCALL_SESSION_OVER: 410,
  WEBCALL_TOO_LARGE: 413,
  WEBCALL_BAD_CONTENT_TYPE: 415,
  WEBCALL_NEED_SESSION: 422,
  WEBCALL_RATE_LIMITED: 429,
  WEBCALL_INTERNAL: 500,
  WEBCALL_UNAVAILABLE: 503,
} as const satisfies Record<string, number>;

export type WebCallErrcode = keyof typeof WEBCALL_ERRCODES;

/** WEBCALL_-prefixed errcodes that other listeners send, documented with them
 *  (README, "Over HTTP"): the WebCall listener never does. */
export const OTHER_LISTENERS_ERRCODES: Readonly<Record<string, number>> = {
  WEBCALL_RULES_CONFLICT: 409, // the provisioning API
};
