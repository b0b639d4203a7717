/** Shapes shared across the test homeserver. */

export type Json = Record<string, unknown>;

export interface NamespaceEntry {
  exclusive: boolean;
  regex: string;
}

/** The subset of an appservice registration file the homeserver reads. */
export interface AppserviceRegistrationLike {
  id: string;
  url: string | null;
  as_token: string;
  hs_token: string;
  sender_localpart: string;
  namespaces: {
    users: NamespaceEntry[];
    rooms?: NamespaceEntry[];
    aliases?: NamespaceEntry[];
  };
  rate_limited?: boolean;
}

/** An event as clients see it from /rooms/{id}/event (room_id included). */
export interface RoomEvent {
  event_id: string;
  type: string;
  room_id: string;
  sender: string;
  origin_server_ts: number;
  content: Json;
  state_key?: string;
  redacts?: string;
  unsigned: Json;
}

/** A persisted event plus what the server keeps about it internally. */
export interface StoredEvent extends Omit<RoomEvent, "unsigned"> {
  /** Position in the server-wide stream; orders everything sync reports. */
  stream: number;
  /** The state event this one replaced, for unsigned.prev_content/replaces_state. */
  replaced?: StoredEvent;
  /** Who sent it with which txnId, so only that device sees unsigned.transaction_id. */
  txn?: { deviceKey: string; txnId: string };
  /** Stripped state captured when an invite is sent (Synapse keeps it in unsigned). */
  inviteRoomState?: Json[];
  /** Set once a redaction for this event is persisted. */
  redactedBy?: StoredEvent;
}

export function membershipOf(ev: StoredEvent): string {
  const m = ev.content["membership"];
  return typeof m === "string" ? m : "leave";
}
