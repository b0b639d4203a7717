import Ajv2020, { ErrorObject, ValidateFunction } from "ajv/dist/2020";
import { CallId, PartyId, tryParseCallId, tryParsePartyId } from "../../ids/call";
import { tryParseEventId, tryParseRoomId, tryParseUserIdAsSent } from "../../ids/matrix";
import { jsonBytes } from "../../util/eventSize";
import { eventSchemas, MAX_SDP_CHARS, SchemaType } from "./schemas";
import { EventEnvelope, MatrixCandidate, MatrixEvent, Membership, SdpDescription, VoipVersion } from "./types";

/** What the edge makes of one pushed event. */
export type Parsed =
  | { kind: "event"; event: MatrixEvent }
  /** A type the bridge does not act on (typing, reactions, other state, m.notice…): passed over without a word. */
  | { kind: "ignored" }
  /** A type the bridge acts on that does not match its schema: logged once and acknowledged, never half-applied. */
  | { kind: "refused"; reason: string };

const ajv = new Ajv2020({ allErrors: false, allowUnionTypes: true, strict: true });
const validators = new Map<string, ValidateFunction>(
  Object.entries(eventSchemas).map(([type, schema]) => [type, ajv.compile(schema)]),
);

/** Human wording for the id patterns (ajv would print the regex). */
const PATTERN_WORDS: Record<string, string> = {
  "/event_id": "must be an event id ($…, at most 255 printable ASCII characters)",
  "/room_id": "must be a room id (!…, at most 255 printable ASCII characters)",
  "/sender": "must be a user id (@localpart:server, at most 255 characters)",
  "/state_key": "must be a user id (@localpart:server, at most 255 characters)",
  "/content/invitee": "must be a user id (@localpart:server, at most 255 characters)",
};

function describe(error: ErrorObject): string {
  const path = error.instancePath || "event";
  switch (error.keyword) {
    case "required": return `${path} must have field '${String(error.params.missingProperty)}'`;
    case "pattern": return `${path} ${PATTERN_WORDS[path] ?? "must be 1-255 characters without control characters"}`;
    case "const": return `${path} must be ${JSON.stringify(error.params.allowedValue)}`;
    case "enum": return `${path} must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    default: return `${path} ${error.message ?? "is invalid"}`;
  }
}

/**
 * Checks one pushed event against its type's schema and turns it into a
 * typed event with branded ids. `raw` has passed the listener's envelope
 * check (an object with string type, ids and an object content).
 */
export function parseEvent(raw: Record<string, unknown>): Parsed {
  const type = raw.type as string;
  const validate = validators.get(type);
  if (!validate) return { kind: "ignored" };
  // Only plain text is a command; images, notices and the rest are not read.
  if (type === "m.room.message" && (raw.content as { msgtype?: unknown }).msgtype !== "m.text") return { kind: "ignored" };
  if (!validate(raw)) return { kind: "refused", reason: validate.errors?.[0] ? describe(validate.errors[0]) : "does not match its schema" };
  try {
    return { kind: "event", event: build(type as SchemaType, raw as unknown as Raw) };
  } catch (error) {
    if (error instanceof Refused) return { kind: "refused", reason: error.message };
    throw error;
  }
}

class Refused extends Error {}

/** The raw shape once its schema matched; each type's own fields are read by build(). */
interface Raw {
  event_id: string;
  room_id: string;
  sender: string;
  state_key?: string;
  unsigned?: { age?: number };
  content: Record<string, unknown> & { call_id?: string; party_id?: string; version?: string | number };
}

function build(type: SchemaType, raw: Raw): MatrixEvent {
  const c = raw.content;
  const base = envelope(raw);
  switch (type) {
    case "m.room.member":
      return { ...base, type, target: checked(tryParseUserIdAsSent(raw.state_key), "/state_key"),
        membership: c.membership as Membership, isDirect: c.is_direct === true };
    case "m.room.message":
      return { ...base, type, body: c.body as string };
  }
  const call = { ...base, callId: checked(tryParseCallId(c.call_id), "/content/call_id") as CallId,
    partyId: c.party_id === undefined ? null : checked(tryParsePartyId(c.party_id), "/content/party_id"),
    version: (c.version === "1" ? "1" : "0") as VoipVersion };
  switch (type) {
    case "m.call.invite": {
      const invitee = c.invitee === undefined ? null : checked(tryParseUserIdAsSent(c.invitee), "/content/invitee");
      return { ...call, type, offer: { type: "offer", sdp: sdpOf(c.offer, "/content/offer") }, lifetimeMs: c.lifetime as number, invitee };
    }
    case "m.call.answer":
      return { ...call, type, answer: { type: "answer", sdp: sdpOf(c.answer, "/content/answer") } };
    case "m.call.negotiate": {
      const d = c.description as SdpDescription;
      const description = { type: d.type, sdp: sdpOf(d, "/content/description") } as SdpDescription;
      return { ...call, type, description, lifetimeMs: typeof c.lifetime === "number" ? c.lifetime : null };
    }
    case "m.call.candidates":
      return { ...call, type, candidates: (c.candidates as MatrixCandidate[]).map(candidateOf) };
    case "m.call.hangup":
      return { ...call, type, reason: typeof c.reason === "string" ? c.reason : null };
    case "m.call.reject":
      return { ...call, type };
    case "m.call.select_answer":
      return { ...call, type, selectedPartyId: checked(tryParsePartyId(c.selected_party_id), "/content/selected_party_id") as PartyId };
  }
}

function envelope(raw: Raw): EventEnvelope {
  return {
    eventId: checked(tryParseEventId(raw.event_id), "/event_id"),
    roomId: checked(tryParseRoomId(raw.room_id), "/room_id"),
    sender: checked(tryParseUserIdAsSent(raw.sender), "/sender"),
    ageMs: Math.max(0, raw.unsigned?.age ?? 0),
  };
}

/** The ids module has the last word on every id the schema let through. */
function checked<T>(value: T | undefined, path: string): T {
  if (value === undefined) throw new Refused(`${path} ${PATTERN_WORDS[path] ?? "is not a valid id"}`);
  return value;
}

/** The schema counts characters; a Matrix event counts bytes once JSON-escaped ("\r\n" is four) and UTF-8 encoded. */
function sdpOf(description: unknown, path: string): string {
  const sdp = (description as { sdp: string }).sdp;
  const bytes = jsonBytes(sdp) - 2; // not its quotes
  if (bytes > MAX_SDP_CHARS) throw new Refused(`${path}/sdp is too large: ${bytes} bytes as JSON, at most ${MAX_SDP_CHARS}`);
  return sdp;
}

/** Only the fields Matrix defines go on (usernameFragment, which browsers add, does not). */
function candidateOf(c: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }): MatrixCandidate {
  return { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null };
}
