/**
 * Every errcode the bridge answers over HTTP, with its status and a default
 * message, in one place. The domain throws a DomainError naming one of these
 * problems; each HTTP listener (WebCall, provisioning, appservice) turns it
 * into a status and `{errcode, error}` at its own boundary (httpAnswer.ts)
 * and answers only the problems listed for it (anything else is its 500).
 *
 * A problem's name is its errcode, except where one errcode is answered with
 * two statuses (Matrix's M_NOT_JSON is 400 for a body that is not JSON and 415
 * for a media type that is not): there the name says which.
 *
 * docs/webcall-protocol.md ("Errors") documents the `webcall` rows; a test
 * (test/docs/protocolDoc.test.ts) holds the two together.
 */

/** The bridge's HTTP listeners. */
export type Listener = "webcall" | "provisioning" | "appservice";

export interface CatalogueEntry {
  readonly errcode: string;
  readonly status: number;
  readonly message: string;
  /** The listeners that may answer it. */
  readonly on: readonly Listener[];
  /** Headers that always go with it (RFC 6750 §3 for the 401s). */
  readonly headers?: Readonly<Record<string, string>>;
}

const W = ["webcall"] as const;
const P = ["provisioning"] as const;
const A = ["appservice"] as const;
const PA = ["provisioning", "appservice"] as const;

export const CATALOGUE = {
  // ---- WebCall/1 (docs/webcall-protocol.md, "Errors") ----
  WEBCALL_BAD_JSON: { errcode: "WEBCALL_BAD_JSON", status: 400, on: W, message: "the request body is not a JSON object or array" },
  WEBCALL_BAD_REQUEST: { errcode: "WEBCALL_BAD_REQUEST", status: 400, on: W, message: "the request is invalid" },
  WEBCALL_BAD_ADDRESS: { errcode: "WEBCALL_BAD_ADDRESS", status: 400, on: W, message: "the address is malformed" },
  WEBCALL_BAD_EVENT: { errcode: "WEBCALL_BAD_EVENT", status: 400, on: W, message: "this side of the session may not send that event" },
  WEBCALL_MISSING_TOKEN: {
    errcode: "WEBCALL_MISSING_TOKEN", status: 401, on: W, message: "Authorization: Bearer <token> is required",
    headers: { "WWW-Authenticate": "Bearer" },
  },
  WEBCALL_BAD_TOKEN: {
    errcode: "WEBCALL_BAD_TOKEN", status: 401, on: W, message: "the token is not valid for this session",
    headers: { "WWW-Authenticate": "Bearer error=\"invalid_token\"" },
  },
  WEBCALL_BAD_SIGNATURE: { errcode: "WEBCALL_BAD_SIGNATURE", status: 401, on: W, message: "the WebCall-Signature does not hold" },
  WEBCALL_UNKNOWN_SESSION: { errcode: "WEBCALL_UNKNOWN_SESSION", status: 404, on: W, message: "no such session" },
  WEBCALL_NOT_FOUND: { errcode: "WEBCALL_NOT_FOUND", status: 404, on: W, message: "no such endpoint" },
  WEBCALL_METHOD_NOT_ALLOWED: { errcode: "WEBCALL_METHOD_NOT_ALLOWED", status: 405, on: W, message: "method not allowed" },
  WEBCALL_SESSION_OVER: { errcode: "WEBCALL_SESSION_OVER", status: 410, on: W, message: "the session is over and all its events were delivered" },
  WEBCALL_TOO_LARGE: { errcode: "WEBCALL_TOO_LARGE", status: 413, on: W, message: "the request body is too large" },
  WEBCALL_BAD_CONTENT_TYPE: {
    errcode: "WEBCALL_BAD_CONTENT_TYPE", status: 415, on: W, message: "the body must be UTF-8 JSON without content encoding",
  },
  WEBCALL_NEED_SESSION: { errcode: "WEBCALL_NEED_SESSION", status: 422, on: W, message: "I can't find a room: bring an offer and try again" },
  WEBCALL_RATE_LIMITED: { errcode: "WEBCALL_RATE_LIMITED", status: 429, on: W, message: "too many requests; retry later" },
  WEBCALL_INTERNAL: { errcode: "WEBCALL_INTERNAL", status: 500, on: W, message: "internal error" },
  WEBCALL_UNAVAILABLE: { errcode: "WEBCALL_UNAVAILABLE", status: 503, on: W, message: "temporarily unable to answer; retry" },

  // ---- the provisioning API (src/provisioning/errors.ts; README, "Over HTTP") ----
  // The M_AS_ codes are matrix-appservice-bridge's, so front ends written for
  // other bridges read ours the same way; the library sends M_AS_BAD_TOKEN
  // and M_AS_LIMIT_EXCEEDED itself.
  M_AS_BAD_VALUE: { errcode: "M_AS_BAD_VALUE", status: 400, on: P, message: "the request is invalid" },
  M_AS_BAD_TOKEN: { errcode: "M_AS_BAD_TOKEN", status: 401, on: P, message: "missing, unknown or expired session token" },
  M_AS_BAD_OPENID: { errcode: "M_AS_BAD_OPENID", status: 401, on: P, message: "the homeserver did not confirm the OpenID token" },
  WEBCALL_RULES_CONFLICT: { errcode: "WEBCALL_RULES_CONFLICT", status: 409, on: P, message: "someone else changed these rules; reload and try again" },
  // The rota routes (src/provisioning/rotaRoutes.ts; docs/rotas.md, "Over HTTP"):
  WEBCALL_ROTA_FORBIDDEN: {
    errcode: "WEBCALL_ROTA_FORBIDDEN", status: 403, on: P,
    message: "only members whose power level is at least the room's state_default may change its rota",
  },
  WEBCALL_ROTA_NOT_FOUND: { errcode: "WEBCALL_ROTA_NOT_FOUND", status: 404, on: P, message: "no such rota, or you are not joined to its room" },
  WEBCALL_ROTA_ROOM_UNKNOWN: {
    errcode: "WEBCALL_ROTA_ROOM_UNKNOWN", status: 404, on: P, message: "the bridge bot is not in that room, or you are not: invite the bot first",
  },
  WEBCALL_ROTA_CONFLICT: { errcode: "WEBCALL_ROTA_CONFLICT", status: 409, on: P, message: "someone else changed this rota; reload and try again" },
  M_AS_LIMIT_EXCEEDED: { errcode: "M_AS_LIMIT_EXCEEDED", status: 429, on: P, message: "too many requests; retry later" },
  M_AS_UNKNOWN: { errcode: "M_AS_UNKNOWN", status: 500, on: P, message: "internal error" },

  // ---- Matrix codes: the provisioning API and the appservice door (src/matrix/appserviceDoor.ts) ----
  M_NOT_JSON: { errcode: "M_NOT_JSON", status: 400, on: PA, message: "the request body is not valid JSON" },
  M_NOT_JSON_MEDIA_TYPE: { errcode: "M_NOT_JSON", status: 415, on: PA, message: "Content-Type must be application/json" },
  M_FORBIDDEN: { errcode: "M_FORBIDDEN", status: 403, on: PA, message: "forbidden" },
  M_UNRECOGNIZED: { errcode: "M_UNRECOGNIZED", status: 404, on: PA, message: "no such endpoint" },
  M_TOO_LARGE: { errcode: "M_TOO_LARGE", status: 413, on: PA, message: "the request body is too large" },
  M_UNAUTHORIZED: { errcode: "M_UNAUTHORIZED", status: 401, on: A, message: "Missing homeserver token" },
  M_BAD_JSON: { errcode: "M_BAD_JSON", status: 400, on: A, message: "the request body could not be read" },
  M_INVALID_PARAM: { errcode: "M_INVALID_PARAM", status: 400, on: A, message: "the request could not be understood" },
  M_NOT_FOUND: { errcode: "M_NOT_FOUND", status: 404, on: A, message: "No such user or room" },
  M_UNKNOWN: { errcode: "M_UNKNOWN", status: 500, on: A, message: "Transaction could not be processed; retry" },
} as const satisfies Record<string, CatalogueEntry>;

export type Problem = keyof typeof CATALOGUE;

export function isProblem(name: unknown): name is Problem {
  return typeof name === "string" && Object.hasOwn(CATALOGUE, name);
}

/** The rows one listener may answer, keyed by problem. */
export function catalogueOf(listener: Listener): Partial<Record<Problem, CatalogueEntry>> {
  return Object.fromEntries(Object.entries(CATALOGUE).filter(([, e]) => (e.on as readonly Listener[]).includes(listener)));
}
