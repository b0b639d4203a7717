import Ajv2020, { ErrorObject, ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { DomainError } from "../errors/DomainError";
import { parseAddress } from "../ids/address";
import { jsonBytes, MAX_CONTENT_JSON_BYTES } from "../util/eventSize";
import { KeysDocument, SessionEvent, SetupRequest, SetupResponse } from "./types";
import defs from "./schemas/defs.json";
import errorSchema from "./schemas/error.json";
import eventsRequest from "./schemas/events-request.json";
import eventsResponse from "./schemas/events-response.json";
import keysResponse from "./schemas/keys-response.json";
import pollResponse from "./schemas/poll-response.json";
import sessionEvent from "./schemas/session-event.json";
import setupRequest from "./schemas/setup-request.json";
import setupResponse from "./schemas/setup-response.json";

/**
 * Validators for every WebCall/1 body, compiled once when this module is
 * loaded (JSON Schema draft 2020-12, ajv 8). Requests that fail answer 400
 * with a message naming the bad field; responses that fail are a bug on our
 * side (see `checkResponse`).
 */

/** The published schemas, by file name (served at {endpoint}/schemas/{name}). */
export const schemas: Readonly<Record<string, object>> = Object.freeze({
  "defs.json": defs,
  "error.json": errorSchema,
  "events-request.json": eventsRequest,
  "events-response.json": eventsResponse,
  "keys-response.json": keysResponse,
  "poll-response.json": pollResponse,
  "session-event.json": sessionEvent,
  "setup-request.json": setupRequest,
  "setup-response.json": setupResponse,
});

const ajv = new Ajv2020({
  allErrors: false, // first error only: cheaper, and one clear message is enough
  discriminator: true, // errors come from the variant `type`/`status` selects
  allowUnionTypes: true,
  strict: true,
});
addFormats(ajv, ["uri"]);
for (const schema of Object.values(schemas)) ajv.addSchema(schema);

function compiled<T>(name: string): ValidateFunction<T> {
  const fn = ajv.getSchema<T>(`https://webcall.invalid/schemas/1/${name}`);
  if (!fn) throw new Error(`schema ${name} is missing`);
  return fn;
}

const setupRequestFn = compiled<SetupRequest>("setup-request.json");
const eventsRequestFn = compiled<{ events: SessionEvent[] }>("events-request.json");
const sessionEventFn = compiled<SessionEvent>("session-event.json");
const responseFns = {
  "setup-response": compiled<SetupResponse>("setup-response.json"),
  "events-response": compiled<Record<string, never>>("events-response.json"),
  "poll-response": compiled<{ events: SessionEvent[]; next: number }>("poll-response.json"),
  "session-event": sessionEventFn,
  "error": compiled<{ errcode: string; error: string }>("error.json"),
  "keys-response": compiled<KeysDocument>("keys-response.json"),
} as const;
export type ResponseKind = keyof typeof responseFns;

/** Human wording for the patterns in defs.json (ajv would print the regex). */
const PATTERN_WORDS = new Map<string, string>([
  [defs.$defs.sessionId.pattern, "must be 16-255 characters of A-Z a-z 0-9 . _ ~ -"],
  [defs.$defs.eventId.pattern, "must be 1-255 characters of A-Z a-z 0-9 . _ ~ -"],
  [defs.$defs.token.pattern, "must be 22-512 characters of A-Z a-z 0-9 . _ ~ + / - (optionally followed by =)"],
  [defs.$defs.domain.pattern, "must be a DNS host name"],
  [setupRequest.properties.notify.pattern, "must be an http(s) URL"],
  [setupRequest.properties.callerName.pattern, "must not contain control characters"],
]);

/** Fields holding addresses or node domains: their errors are WEBCALL_BAD_ADDRESS. */
const ADDRESS_PATH = /^\/(?:callerId|calleeId|via\/\d+)$/;

function describe(where: string, error: ErrorObject): string {
  const path = `${where}${error.instancePath}`;
  switch (error.keyword) {
    case "additionalProperties":
      return `${path}/${String(error.params.additionalProperty)} is not an allowed field`;
    case "required":
      return `${path} must have field '${String(error.params.missingProperty)}'`;
    case "discriminator":
      return error.params.error === "tag"
        ? `${path}/${String(error.params.tag)} must be a string`
        : `${path}/${String(error.params.tag)} must be one of the known values`;
    case "pattern":
      return `${path} ${PATTERN_WORDS.get(String(error.params.pattern)) ?? "has the wrong format"}`;
    case "const":
      return `${path} must be ${JSON.stringify(error.params.allowedValue)}`;
    case "enum":
      return `${path} must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return `${path} ${error.message ?? "is invalid"}`;
  }
}

function badRequest(where: string, errors: ErrorObject[] | null | undefined): DomainError {
  const error = errors?.[0];
  if (!error) return new DomainError("WEBCALL_BAD_REQUEST", `${where} is invalid`);
  if (where === "body" && ADDRESS_PATH.test(error.instancePath)) {
    const field = `${where}${error.instancePath}`;
    return error.instancePath.startsWith("/via/")
      ? new DomainError("WEBCALL_BAD_ADDRESS", `${field} must be a node domain (a DNS host name)`)
      : new DomainError("WEBCALL_BAD_ADDRESS",
        `${field} must be an address of the form local@domain (local part 1-255 of A-Z a-z 0-9 . _ = + / -)`);
  }
  return new DomainError("WEBCALL_BAD_REQUEST", describe(where, error));
}

/**
 * The m.call.invite or m.call.answer carrying an SDP has at most ~4 KiB
 * besides it (call, party, room and user ids of up to 255 characters each,
 * auth and prev events, hashes, the signature: PDU_ENVELOPE_BYTES), so the
 * SDP may take the rest of Synapse's 64 KiB as JSON escapes it and UTF-8
 * encodes it. The schemas' maxLength is the same number in characters:
 * necessary, not sufficient.
 */
export const MAX_SDP_JSON_BYTES = MAX_CONTENT_JSON_BYTES;

function checkSdpSize(field: string, description: { sdp: string } | undefined): void {
  if (description === undefined) return;
  const bytes = jsonBytes(description.sdp) - 2; // not its quotes
  if (bytes > MAX_SDP_JSON_BYTES) {
    throw new DomainError("WEBCALL_TOO_LARGE",
      `${field}/sdp is too large: ${bytes} bytes as JSON, at most ${MAX_SDP_JSON_BYTES} (a Matrix event holds 64 KiB)`);
  }
}

/** Validates a setup request body and normalises it (address and via domains
 *  lower-cased). Throws 400 WEBCALL_BAD_REQUEST / WEBCALL_BAD_ADDRESS, 413 WEBCALL_TOO_LARGE. */
export function validateSetupRequest(body: unknown): SetupRequest {
  if (!setupRequestFn(body)) throw badRequest("body", setupRequestFn.errors);
  checkSdpSize("body/offer", body.offer);
  const request: SetupRequest = { ...body, calleeId: parseAddress(body.calleeId, "body/calleeId") };
  if (body.callerId !== undefined) request.callerId = parseAddress(body.callerId, "body/callerId");
  if (body.via !== undefined) request.via = body.via.map((d) => d.toLowerCase());
  return request;
}

/** Validates an event delivery body `{events: [...]}` (1-100 events). */
export function validateEventsRequest(body: unknown): SessionEvent[] {
  if (!eventsRequestFn(body)) throw badRequest("body", eventsRequestFn.errors);
  body.events.forEach((event, i) => {
    if (event.type === "answer") checkSdpSize(`body/events/${i}/answer`, event.answer);
    if (event.type === "replace") checkSdpSize(`body/events/${i}/offer`, event.offer);
    if (event.type === "negotiate") checkSdpSize(`body/events/${i}/description`, event.description);
  });
  return body.events;
}

/** Whether a body we are about to send matches its schema. A false answer is
 *  a bug: log it and send 500 WEBCALL_INTERNAL instead. The second element
 *  names the first problem, for the log. */
export function checkResponse(kind: ResponseKind, body: unknown): [ok: boolean, problem?: string] {
  const fn = responseFns[kind];
  if (fn(body)) return [true];
  const error = fn.errors?.[0];
  return [false, error ? describe(kind, error) : `${kind} is invalid`];
}
