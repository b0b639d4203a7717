/** Event serialisation in the shapes Synapse sends: REST (v1), sync (no room_id), stripped state. */
import type { Json, RoomEvent, StoredEvent } from "./types";

export interface FormatOptions {
  /** Sync leaves room_id out; REST answers and appservice pushes keep it. */
  withRoomId: boolean;
  /** Synapse's "v1" client format also copies age/prev_content/... to the top level and adds user_id. */
  v1: boolean;
  /** The viewing device; the sender's own device gets unsigned.transaction_id. */
  deviceKey?: string;
  /** Adds unsigned.invite_room_state to invites (appservice pushes do this). */
  withInviteState?: boolean;
}

/** Content kept by redaction (room versions 6-10). */
const KEPT_ON_REDACTION: Record<string, string[]> = {
  "m.room.member": ["membership"],
  "m.room.create": ["creator"],
  "m.room.join_rules": ["join_rule"],
  "m.room.power_levels": ["ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"],
  "m.room.history_visibility": ["history_visibility"],
};

function redactedContent(ev: StoredEvent): Json {
  const keep = KEPT_ON_REDACTION[ev.type] ?? [];
  const out: Json = {};
  for (const k of keep) if (k in ev.content) out[k] = ev.content[k];
  return out;
}

export function formatEvent(ev: StoredEvent, now: number, opts: FormatOptions): Json {
  const unsigned: Json = { age: Math.max(0, now - ev.origin_server_ts) };
  if (ev.replaced) {
    unsigned["prev_content"] = ev.replaced.redactedBy ? redactedContent(ev.replaced) : ev.replaced.content;
    unsigned["prev_sender"] = ev.replaced.sender;
    unsigned["replaces_state"] = ev.replaced.event_id;
  }
  if (ev.txn && opts.deviceKey !== undefined && ev.txn.deviceKey === opts.deviceKey) {
    unsigned["transaction_id"] = ev.txn.txnId;
  }
  if (ev.redactedBy) {
    unsigned["redacted_because"] = formatEvent(ev.redactedBy, now, { withRoomId: opts.withRoomId, v1: false });
  }
  if (opts.withInviteState && ev.inviteRoomState) unsigned["invite_room_state"] = ev.inviteRoomState;

  const out: Json = {
    type: ev.type,
    sender: ev.sender,
    content: ev.redactedBy ? redactedContent(ev) : ev.content,
    origin_server_ts: ev.origin_server_ts,
    event_id: ev.event_id,
    unsigned,
  };
  if (opts.withRoomId) out["room_id"] = ev.room_id;
  if (ev.state_key !== undefined) out["state_key"] = ev.state_key;
  if (ev.redacts !== undefined) {
    out["redacts"] = ev.redacts;
  }
  if (opts.v1) {
    out["user_id"] = ev.sender;
    for (const k of ["age", "redacted_because", "replaces_state", "prev_content", "invite_room_state"]) {
      if (k in unsigned) out[k] = unsigned[k];
    }
  }
  return out;
}

/** What REST endpoints return and what the test hooks expose. */
export function restEvent(ev: StoredEvent, now = Date.now()): RoomEvent {
  return formatEvent(ev, now, { withRoomId: true, v1: true }) as unknown as RoomEvent;
}

/** Plain client event with room_id (no v1 extras): the form the "event" hook emits. */
export function plainEvent(ev: StoredEvent, now = Date.now()): RoomEvent {
  return formatEvent(ev, now, { withRoomId: true, v1: false }) as unknown as RoomEvent;
}

export function syncEvent(ev: StoredEvent, now: number, deviceKey: string): Json {
  return formatEvent(ev, now, { withRoomId: false, v1: false, deviceKey });
}

export function strippedEvent(ev: StoredEvent): Json {
  return { type: ev.type, state_key: ev.state_key, content: ev.content, sender: ev.sender };
}
