import { CALL_ID_PATTERN } from "../../ids/call";
import { EVENT_ID_PATTERN, ROOM_ID_PATTERN, USER_ID_AS_SENT_PATTERN } from "../../ids/matrix";
import { MAX_CONTENT_JSON_BYTES } from "../../util/eventSize";

/**
 * JSON Schemas (draft 2020-12) of the events the bridge acts on, as the
 * homeserver pushes them: the envelope (ids) and the content, from the
 * Matrix spec's VoIP module (v1.7+, MSC2746) and m.room.member, and as
 * matrix-js-sdk and Element send them (version "1" as a string, 0 as an
 * integer from older clients; browsers' candidate.toJSON() with
 * usernameFragment; sdp_stream_metadata, capabilities, conf_id and other
 * fields the bridge does not read are let through). Every string and list
 * the bridge reads is bounded: a pushed event is data from any client of
 * the homeserver, and only the homeserver's 64 KiB bounds it otherwise.
 */

/** An SDP as the WebCall side bounds it (defs.json's sdp): what fits one Matrix event. */
export const MAX_SDP_CHARS = MAX_CONTENT_JSON_BYTES;
/** Candidates in one m.call.candidates event: js-sdk sends a few dozen at
 *  most; 512 of the shortest fill a 64 KiB event several times over. */
export const MAX_CANDIDATES = 512;
/** One candidate line (the WebCall side's bound). */
export const MAX_CANDIDATE_CHARS = 4096;
/** A ringing call's lifetime: a day is no longer a ringing call (the bridge caps it further, calls.maxLifetimeMs). */
export const MAX_LIFETIME_MS = 86_400_000;
/** A command to the bot: every command of the rules language fits many times over. */
export const MAX_COMMAND_CHARS = 4096;
/** Any other string the bridge reads (hangup reasons, msgtype). */
export const MAX_STRING_CHARS = 255;

const id = (pattern: string) => ({ type: "string", maxLength: 255, pattern });
const userId = id(USER_ID_AS_SENT_PATTERN);
const callId = { type: "string", pattern: CALL_ID_PATTERN };
const text = { type: "string", maxLength: MAX_STRING_CHARS };
const lifetime = { type: "integer", minimum: 1, maximum: MAX_LIFETIME_MS };
const sdp = (types: string[]) => ({
  type: "object", required: ["type", "sdp"],
  properties: { type: { enum: types }, sdp: { type: "string", minLength: 1, maxLength: MAX_SDP_CHARS } },
});

const candidate = {
  type: "object", required: ["candidate"],
  properties: {
    candidate: { type: "string", maxLength: MAX_CANDIDATE_CHARS },
    sdpMid: { type: ["string", "null"], maxLength: 255 },
    sdpMLineIndex: { type: ["integer", "null"], minimum: 0, maximum: 65535 },
    usernameFragment: { type: ["string", "null"], maxLength: 256 },
  },
};

/** An event of `type` whose content has `content`'s fields (besides the call's ids, for m.call.*). */
function event(type: string, content: { required: string[]; properties: Record<string, unknown> }, extra: Record<string, unknown> = {}) {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    required: ["type", "event_id", "room_id", "sender", "content", ...Object.keys(extra)],
    properties: {
      type: { const: type },
      event_id: id(EVENT_ID_PATTERN),
      room_id: id(ROOM_ID_PATTERN),
      sender: userId,
      origin_server_ts: { type: "integer" },
      unsigned: { type: "object", properties: { age: { type: "integer" } } },
      content: { type: "object", ...content },
      ...extra,
    },
  };
}

function callEvent(type: string, required: string[] = [], properties: Record<string, unknown> = {}) {
  return event(type, {
    required: ["call_id", "version", ...required],
    properties: { call_id: callId, party_id: callId, version: { enum: ["1", "0", 0] }, ...properties },
  });
}

export const eventSchemas = {
  "m.call.invite": callEvent("m.call.invite", ["offer", "lifetime"], { offer: sdp(["offer"]), lifetime, invitee: userId }),
  "m.call.answer": callEvent("m.call.answer", ["answer"], { answer: sdp(["answer"]) }),
  "m.call.candidates": callEvent("m.call.candidates", ["candidates"], {
    candidates: { type: "array", maxItems: MAX_CANDIDATES, items: candidate },
  }),
  "m.call.hangup": callEvent("m.call.hangup", [], { reason: text }),
  "m.call.reject": callEvent("m.call.reject", [], { reason: text }),
  "m.call.select_answer": callEvent("m.call.select_answer", ["selected_party_id"], { selected_party_id: callId }),
  "m.call.negotiate": callEvent("m.call.negotiate", ["description"], { description: sdp(["offer", "answer"]), lifetime }),
  "m.room.member": event("m.room.member", {
    required: ["membership"],
    properties: { membership: { enum: ["invite", "join", "leave", "ban", "knock"] }, is_direct: { type: "boolean" } },
  }, { state_key: userId }),
  "m.room.message": event("m.room.message", {
    required: ["msgtype", "body"],
    properties: { msgtype: { const: "m.text" }, body: { type: "string", maxLength: MAX_COMMAND_CHARS } },
  }),
} as const;

export type SchemaType = keyof typeof eventSchemas;
