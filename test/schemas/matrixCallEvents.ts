import Ajv from "ajv";

/**
 * The project's own schemas for the m.call.* events the bridge sends,
 * written from the Matrix spec (v1.7+, MSC2746) and stricter than it where the
 * bridge promises more: always version "1", a non-empty party_id, hangup
 * reasons only from the spec's enum, batched candidates. Every event a
 * virtual user sends in the end-to-end tests is checked against these.
 */
const common = {
  call_id: { type: "string", minLength: 1 },
  party_id: { type: "string", minLength: 1 },
  version: { const: "1" },
};
const required = ["call_id", "party_id", "version"];
const sdp = (type: string) => ({
  type: "object", additionalProperties: false, required: ["type", "sdp"],
  properties: { type: { const: type }, sdp: { type: "string", minLength: 1 } },
});
const content = (props: Record<string, unknown>, extra: string[] = []) => ({
  type: "object", additionalProperties: false, required: [...required, ...extra], properties: { ...common, ...props },
});

export const callEventSchemas: Record<string, object> = {
  "m.call.invite": content({
    offer: sdp("offer"),
    lifetime: { type: "integer", minimum: 1 },
    invitee: { type: "string", pattern: "^@[^:]+:.+$" },
  }, ["offer", "lifetime"]),
  "m.call.candidates": content({
    candidates: {
      type: "array", minItems: 1,
      items: {
        type: "object", additionalProperties: false, required: ["candidate"],
        properties: { candidate: { type: "string" }, sdpMid: { type: "string" }, sdpMLineIndex: { type: "integer", minimum: 0 } },
      },
    },
  }, ["candidates"]),
  "m.call.answer": content({ answer: sdp("answer") }, ["answer"]),
  "m.call.select_answer": content({ selected_party_id: { type: "string", minLength: 1 } }, ["selected_party_id"]),
  "m.call.reject": content({}),
  "m.call.hangup": content({
    reason: { enum: ["ice_failed", "ice_timeout", "invite_timeout", "user_hangup", "user_media_failed", "user_busy", "unknown_error"] },
  }, ["reason"]),
  "m.call.negotiate": content({
    description: {
      type: "object", additionalProperties: false, required: ["type", "sdp"],
      properties: { type: { enum: ["offer", "answer"] }, sdp: { type: "string", minLength: 1 } },
    },
    lifetime: { type: "integer", minimum: 1 },
  }, ["description", "lifetime"]),
};

const ajv = new Ajv({ allErrors: true });
const validators = Object.fromEntries(Object.entries(callEventSchemas).map(([t, s]) => [t, ajv.compile(s)]));

/** Problems with a sent call event, or [] if it is valid. Non-call events are not checked here. */
export function callEventProblems(type: string, content: unknown): string[] {
  if (!type.startsWith("m.call.")) return [];
  const validate = validators[type];
  if (!validate) return [`the bridge must not send ${type}`];
  return validate(content) ? [] : (validate.errors ?? []).map((e) => `${type}${e.instancePath} ${e.message}`);
}
