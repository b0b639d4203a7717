import { Brand } from "./brand";

/**
 * The ids of a Matrix VoIP call (m.call.*). The spec gives them no grammar;
 * the bridge bounds them at 255 characters, as it bounds every Matrix id,
 * and refuses control characters, which no client puts in an id and which a
 * log line should never carry.
 */

/** `call_id`: names one Matrix call in its room. */
export type CallId = Brand<string, "CallId">;
/** `party_id`: one side (one device) of one Matrix call. */
export type PartyId = Brand<string, "PartyId">;

export const MAX_CALL_ID_LENGTH = 255;
export const MAX_PARTY_ID_LENGTH = 255;
/** The JSON Schema pattern src/matrix/events/schemas/defs.json uses for both. */
export const CALL_ID_PATTERN = "^[^\\u0000-\\u001f\\u007f]{1,255}$";
const CALL_ID = new RegExp(CALL_ID_PATTERN, "u");

export function tryParseCallId(input: unknown): CallId | undefined {
  return typeof input === "string" && CALL_ID.test(input) ? input as CallId : undefined;
}

export function tryParsePartyId(input: unknown): PartyId | undefined {
  return typeof input === "string" && CALL_ID.test(input) ? input as PartyId : undefined;
}
