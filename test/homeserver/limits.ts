/**
 * Synapse's size limits on a new event (event_auth.py `_check_size_limits`,
 * run on every event it creates): the canonical PDU JSON at most 65,536 bytes,
 * and sender, room_id, state_key and type at most 255 characters and 255
 * UTF-8 bytes. Each is 413 M_TOO_LARGE, with Synapse's messages. A user id
 * over 255 characters can still be registered by an appservice; it is its
 * events that fail.
 */
import { MatrixError } from "./errors";
import type { EventDraft } from "./core";
import type { Json } from "./types";

const MAX_PDU_BYTES = 65_536;
const MAX_ID_LENGTH = 255;

/** An event id, hash or signature of Synapse's length (unpadded base64). */
const b64 = (chars: number): string => "x".repeat(chars);

/**
 * What the PDU Synapse builds around an event adds to it: this server has no
 * DAG, so its fields are stand-ins of their real length. Five auth events (the
 * most any event has: create, power levels, join rules, sender's and target's
 * membership), one prev event (one linear timeline), depth, hashes, the
 * server's signature and unsigned.age_ts. A little over Synapse's own for
 * most events, never under it.
 */
function pduOf(serverName: string, roomId: string, draft: EventDraft, now: number): Json {
  const pdu: Json = {
    auth_events: Array.from({ length: 5 }, () => `$${b64(43)}`),
    prev_events: [`$${b64(43)}`],
    type: draft.type,
    room_id: roomId,
    sender: draft.sender,
    content: draft.content,
    depth: Number.MAX_SAFE_INTEGER,
    origin_server_ts: now,
    hashes: { sha256: b64(43) },
    signatures: { [serverName]: { "ed25519:a_abcd": b64(86) } },
    unsigned: { age_ts: now },
  };
  if (draft.state_key !== undefined) pdu["state_key"] = draft.state_key;
  if (draft.redacts !== undefined) pdu["redacts"] = draft.redacts;
  return pdu;
}

/** Throws 413 M_TOO_LARGE where Synapse would refuse to create the event. */
export function checkEventSize(serverName: string, roomId: string, draft: EventDraft): void {
  // Canonical JSON has no whitespace and escapes strings as JSON.stringify does, so the byte counts agree.
  if (Buffer.byteLength(JSON.stringify(pduOf(serverName, roomId, draft, Date.now())), "utf8") > MAX_PDU_BYTES) {
    throw new MatrixError(413, "M_TOO_LARGE", "event too large");
  }
  const fields: Array<[string, string | undefined]> = [
    ["sender", draft.sender], ["room_id", roomId], ["state_key", draft.state_key], ["type", draft.type],
  ];
  for (const [name, value] of fields) {
    // Code points first, as Python counts a str, then bytes.
    if (value !== undefined && ([...value].length > MAX_ID_LENGTH || Buffer.byteLength(value, "utf8") > MAX_ID_LENGTH)) {
      throw new MatrixError(413, "M_TOO_LARGE", `'${name}' too large`);
    }
  }
}

/** Synapse's profile field limits (handlers/profile.py), in code points as Python counts. */
export const PROFILE_LIMITS = { displayname: 256, avatar_url: 1000 } as const;
const PROFILE_WORDS = { displayname: "Displayname", avatar_url: "Avatar URL" } as const;

/** 400 where a profile value is too long: M_BAD_JSON in a member event (room_member.py), M_UNKNOWN at PUT /profile. */
export function checkProfileValue(field: keyof typeof PROFILE_LIMITS, value: unknown, errcode: "M_BAD_JSON" | "M_UNKNOWN"): void {
  if (typeof value === "string" && [...value].length > PROFILE_LIMITS[field]) {
    throw new MatrixError(400, errcode, `${PROFILE_WORDS[field]} is too long (max ${PROFILE_LIMITS[field]})`);
  }
}
