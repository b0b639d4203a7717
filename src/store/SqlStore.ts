import { Address } from "../ids/address";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { SessionId } from "../ids/session";
import { DefaultAction, Rule, UserRules } from "../model/rules";
import { SqlClient } from "./sql";
import {
  BotRoom, CallPatch, CallRecord, CallState, DmRoom, ProvisioningSession, QueuedEvent, SigningKeyRecord, Store,
} from "./Store";
import { CallerIdentity } from "../model/callerIdentity";
import { SessionDescription } from "../protocol/types";

/**
 * Every statement is a fixed, parameterised text (except transitionCall's SET
 * list, which depends on the patch's keys), so PostgreSQL can keep it
 * prepared per connection. Result columns are always listed, never `*`.
 */

/** calls' columns; jsonb ones are sent as JSON text and cast. */
const CALL_COLUMNS = {
  callId: "call_id",
  direction: "direction",
  state: "state",
  tokenHash: "token_hash",
  callerAddress: "caller_address",
  calleeAddress: "callee_address",
  matrixUserId: "matrix_user_id",
  virtualUserId: "virtual_user_id",
  roomId: "room_id",
  bridgePartyId: "bridge_party_id",
  matrixPartyId: "matrix_party_id",
  matrixVersion: "matrix_version",
  offer: "offer",
  answer: "answer",
  lifetimeMs: "lifetime_ms",
  createdAt: "created_at",
  expiresAt: "expires_at",
  answeredAt: "answered_at",
  endedAt: "ended_at",
  notifyUrl: "notify_url",
  notifyToken: "notify_token",
  via: "via",
  setupFingerprint: "setup_fingerprint",
  setupResponse: "setup_response",
  replacedBy: "replaced_by",
  endReason: "end_reason",
  relayPeer: "relay_peer",
  peerNode: "peer_node",
  callerIdentity: "caller_identity",
} as const satisfies Record<keyof CallRecord, string>;

type CallField = keyof CallRecord;
const CALL_FIELDS = Object.keys(CALL_COLUMNS) as CallField[];
const JSON_FIELDS = new Set<CallField>(["offer", "answer", "via", "setupResponse", "callerIdentity"]);
const CALL_SELECT = CALL_FIELDS.map((f) => CALL_COLUMNS[f]).join(", ");

function placeholder(field: CallField, n: number): string {
  return JSON_FIELDS.has(field) ? `$${n}::jsonb` : `$${n}`;
}

function encode(field: CallField, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return JSON_FIELDS.has(field) ? JSON.stringify(value) : value;
}

interface CallRow {
  call_id: string;
  direction: CallRecord["direction"];
  state: CallState;
  token_hash: string;
  caller_address: string | null;
  callee_address: string;
  matrix_user_id: string;
  virtual_user_id: string;
  room_id: string | null;
  bridge_party_id: string;
  matrix_party_id: string | null;
  matrix_version: string;
  offer: SessionDescription;
  answer: SessionDescription | null;
  /** int8 arrives as a string from pg and as a number from PGlite. */
  lifetime_ms: string | number;
  created_at: string | number;
  expires_at: string | number;
  answered_at: string | number | null;
  ended_at: string | number | null;
  notify_url: string | null;
  notify_token: string | null;
  via: string[];
  setup_fingerprint: string | null;
  setup_response: Record<string, unknown> | null;
  replaced_by: string | null;
  end_reason: string | null;
  relay_peer: string | null;
  peer_node: string | null;
  caller_identity: CallerIdentity | null;
}

function nullableNumber(value: string | number | null): number | null {
  return value === null ? null : Number(value);
}

function toCall(row: CallRow): CallRecord {
  return {
    callId: row.call_id as SessionId,
    direction: row.direction,
    state: row.state,
    tokenHash: row.token_hash,
    callerAddress: row.caller_address as Address | null,
    calleeAddress: row.callee_address as Address,
    matrixUserId: row.matrix_user_id as MatrixUserId,
    virtualUserId: row.virtual_user_id as MatrixUserId,
    roomId: row.room_id as RoomId | null,
    bridgePartyId: row.bridge_party_id,
    matrixPartyId: row.matrix_party_id,
    matrixVersion: row.matrix_version,
    offer: row.offer,
    answer: row.answer,
    lifetimeMs: Number(row.lifetime_ms),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    answeredAt: nullableNumber(row.answered_at),
    endedAt: nullableNumber(row.ended_at),
    notifyUrl: row.notify_url,
    notifyToken: row.notify_token,
    via: row.via,
    setupFingerprint: row.setup_fingerprint,
    setupResponse: row.setup_response,
    replacedBy: row.replaced_by as SessionId | null,
    endReason: row.end_reason,
    relayPeer: row.relay_peer as SessionId | null,
    peerNode: row.peer_node,
    callerIdentity: row.caller_identity,
  };
}

interface DmRoomRow {
  matrix_user_id: string;
  virtual_user_id: string;
  room_id: string;
  matrix_user_joined: boolean;
}

function toDmRoom(row: DmRoomRow): DmRoom {
  return {
    matrixUserId: row.matrix_user_id as MatrixUserId,
    virtualUserId: row.virtual_user_id as MatrixUserId,
    roomId: row.room_id as RoomId,
    matrixUserJoined: row.matrix_user_joined,
  };
}

interface UserRulesRow {
  user_id: string;
  rules: Rule[];
  default_action: DefaultAction | null;
  time_zone: string | null;
  notify_refused: boolean;
  version: number;
}

function toUserRules(row: UserRulesRow): UserRules {
  return {
    userId: row.user_id as MatrixUserId,
    rules: row.rules,
    defaultAction: row.default_action,
    timeZone: row.time_zone,
    notifyRefused: row.notify_refused,
    version: row.version,
  };
}

interface ProvisioningSessionRow {
  token_hash: string;
  user_id: string;
  expires_at: string | number;
}

const DM_SELECT = "SELECT matrix_user_id, virtual_user_id, room_id, matrix_user_joined FROM dm_rooms";

/** Must match the partial indexes' predicate in 001_initial.sql. */
const LIVE = "state NOT IN ('ended', 'replaced')";

const SQL = {
  isRegistered: "SELECT 1 FROM registered_virtual_users WHERE user_id = $1",
  markRegistered: "INSERT INTO registered_virtual_users (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING",
  getDmRoom: `${DM_SELECT} WHERE matrix_user_id = $1 AND virtual_user_id = $2`,
  getDmRoomById: `${DM_SELECT} WHERE room_id = $1`,
  deleteDmRoomsFor: "DELETE FROM dm_rooms WHERE (matrix_user_id = $1 AND virtual_user_id = $2) OR room_id = $3",
  insertDmRoom: "INSERT INTO dm_rooms (matrix_user_id, virtual_user_id, room_id, matrix_user_joined) VALUES ($1, $2, $3, $4)",
  setMatrixUserJoined: "UPDATE dm_rooms SET matrix_user_joined = $2 WHERE room_id = $1",
  deleteDmRoom: "DELETE FROM dm_rooms WHERE room_id = $1",
  insertCall: `INSERT INTO calls (${CALL_SELECT}) VALUES (${CALL_FIELDS.map((f, i) => placeholder(f, i + 1)).join(", ")})
    ON CONFLICT (call_id) DO NOTHING RETURNING call_id`,
  getCall: `SELECT ${CALL_SELECT} FROM calls WHERE call_id = $1`,
  liveCalls: `SELECT ${CALL_SELECT} FROM calls WHERE ${LIVE} ORDER BY created_at, call_id`,
  liveCallsInRoom: `SELECT ${CALL_SELECT} FROM calls WHERE room_id = $1 AND ${LIVE} ORDER BY created_at, call_id`,
  /** One statement: bump the call's counter (the row lock orders racing
   *  appends) and insert the event under the new number. */
  appendPartyEvent: `WITH counter AS (
      INSERT INTO party_event_counters AS c (call_id, last_seq) VALUES ($1, 1)
      ON CONFLICT (call_id) DO UPDATE SET last_seq = c.last_seq + 1
      RETURNING last_seq)
    INSERT INTO party_events (call_id, seq, event) SELECT $1, last_seq, $2::jsonb FROM counter RETURNING seq`,
  partyEventsSince: "SELECT seq, event FROM party_events WHERE call_id = $1 AND seq > $2 ORDER BY seq",
  markPartyEventSeen: "INSERT INTO party_events_seen (call_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS inserted",
  markEventsHandled: "INSERT INTO handled_events (event_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING event_id",
  recentHandledEvents: "SELECT event_id FROM handled_events ORDER BY handled_at DESC, event_id LIMIT $1",
  pruneHandledEvents: `DELETE FROM handled_events WHERE handled_at <
    (SELECT handled_at FROM handled_events ORDER BY handled_at DESC OFFSET $1 LIMIT 1)`,
  getUserRules: "SELECT user_id, rules, default_action, time_zone, notify_refused, version FROM user_rules WHERE user_id = $1",
  /** The first save: a racing first save makes this insert nothing. */
  insertUserRules: `INSERT INTO user_rules (user_id, rules, default_action, time_zone, notify_refused, version, updated_at)
    VALUES ($1, $2::jsonb, $3, $4, $5, 1, $6) ON CONFLICT (user_id) DO NOTHING RETURNING 1 AS saved`,
  /** Later saves: only over the version the edit was made from. */
  updateUserRules: `UPDATE user_rules SET rules = $2::jsonb, default_action = $3, time_zone = $4, notify_refused = $5,
    version = version + 1, updated_at = $6 WHERE user_id = $1 AND version = $7 RETURNING 1 AS saved`,
  putBotRoom: "INSERT INTO bot_rooms (room_id, user_id) VALUES ($1, $2) ON CONFLICT (room_id) DO UPDATE SET user_id = EXCLUDED.user_id",
  getBotRoom: "SELECT room_id, user_id FROM bot_rooms WHERE room_id = $1",
  /** bot_rooms has no timestamp; the lowest room id makes the answer at least stable. */
  deleteBotRoom: "DELETE FROM bot_rooms WHERE room_id = $1",
  createProvisioningSession: "INSERT INTO provisioning_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
  getProvisioningSession: "SELECT token_hash, user_id, expires_at FROM provisioning_sessions WHERE token_hash = $1",
  deleteProvisioningSession: "DELETE FROM provisioning_sessions WHERE token_hash = $1",
  deleteProvisioningSessions: "DELETE FROM provisioning_sessions WHERE user_id = $1",
  listSigningKeys: "SELECT key_id, seed, created_at, expired_at FROM signing_keys ORDER BY created_at, key_id",
  insertSigningKey: "INSERT INTO signing_keys (key_id, seed, created_at, expired_at) VALUES ($1, $2, $3, $4)",
  retireSigningKey: "UPDATE signing_keys SET expired_at = $2 WHERE key_id = $1 AND expired_at IS NULL",
  deleteSigningKeysRetiredBefore: "DELETE FROM signing_keys WHERE expired_at < $1",
} as const;

/** transitionCall's statement per set of patched fields, built once. */
const transitionSql = new Map<string, string>();

function transitionStatement(fields: readonly CallField[]): string {
  const key = fields.join(",");
  let text = transitionSql.get(key);
  if (text === undefined) {
    const set = fields.length === 0
      ? "state = state"
      : fields.map((f, i) => `${CALL_COLUMNS[f]} = ${placeholder(f, i + 3)}`).join(", ");
    text = `UPDATE calls SET ${set} WHERE call_id = $1 AND state = ANY($2::text[]) RETURNING ${CALL_SELECT}`;
    transitionSql.set(key, text);
  }
  return text;
}

/** Fields a patch may not change (CallPatch excludes them; guard at run time too). */
const IMMUTABLE = new Set<CallField>(["callId", "direction", "createdAt"]);

export class SqlStore implements Store {
  constructor(private readonly db: SqlClient) {}

  close(): Promise<void> {
    return this.db.close();
  }

  async isRegistered(userId: MatrixUserId): Promise<boolean> {
    return (await this.db.query(SQL.isRegistered, [userId])).length > 0;
  }

  async markRegistered(userId: MatrixUserId): Promise<void> {
    await this.db.query(SQL.markRegistered, [userId]);
  }

  async getDmRoom(matrixUserId: MatrixUserId, virtualUserId: MatrixUserId): Promise<DmRoom | undefined> {
    const [row] = await this.db.query<DmRoomRow>(SQL.getDmRoom, [matrixUserId, virtualUserId]);
    return row && toDmRoom(row);
  }

  async getDmRoomById(roomId: RoomId): Promise<DmRoom | undefined> {
    const [row] = await this.db.query<DmRoomRow>(SQL.getDmRoomById, [roomId]);
    return row && toDmRoom(row);
  }

  /** Replaces the pair's previous room, and any other pair's claim on this room. */
  async putDmRoom(room: DmRoom): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(SQL.deleteDmRoomsFor, [room.matrixUserId, room.virtualUserId, room.roomId]);
      await tx.query(SQL.insertDmRoom, [room.matrixUserId, room.virtualUserId, room.roomId, room.matrixUserJoined]);
    });
  }

  async setMatrixUserJoined(roomId: RoomId, joined: boolean): Promise<void> {
    await this.db.query(SQL.setMatrixUserJoined, [roomId, joined]);
  }

  async deleteDmRoom(roomId: RoomId): Promise<void> {
    await this.db.query(SQL.deleteDmRoom, [roomId]);
  }

  async insertCall(call: CallRecord): Promise<{ inserted: true } | { inserted: false; existing: CallRecord }> {
    const params = CALL_FIELDS.map((f) => encode(f, call[f]));
    const rows = await this.db.query(SQL.insertCall, params);
    if (rows.length > 0) return { inserted: true };
    // ON CONFLICT DO NOTHING waited for any racing insert to commit, so the row is visible now.
    const existing = await this.getCall(call.callId);
    if (existing === undefined) throw new Error(`call ${call.callId} conflicted on insert but cannot be read`);
    return { inserted: false, existing };
  }

  async getCall(callId: SessionId): Promise<CallRecord | undefined> {
    const [row] = await this.db.query<CallRow>(SQL.getCall, [callId]);
    return row && toCall(row);
  }

  async transitionCall(callId: SessionId, fromStates: readonly CallState[], patch: CallPatch): Promise<CallRecord | undefined> {
    const fields: CallField[] = [];
    const params: unknown[] = [callId, fromStates];
    for (const field of CALL_FIELDS) {
      if (IMMUTABLE.has(field)) continue;
      const value = (patch as Partial<CallRecord>)[field];
      if (value === undefined) continue;
      fields.push(field);
      params.push(encode(field, value));
    }
    const [row] = await this.db.query<CallRow>(transitionStatement(fields), params);
    return row && toCall(row);
  }

  async liveCalls(): Promise<CallRecord[]> {
    return (await this.db.query<CallRow>(SQL.liveCalls)).map(toCall);
  }

  async liveCallsInRoom(roomId: RoomId): Promise<CallRecord[]> {
    return (await this.db.query<CallRow>(SQL.liveCallsInRoom, [roomId])).map(toCall);
  }

  async appendPartyEvent(callId: SessionId, event: Record<string, unknown>): Promise<number> {
    const [row] = await this.db.query<{ seq: number }>(SQL.appendPartyEvent, [callId, JSON.stringify(event)]);
    if (row === undefined) throw new Error(`appending a party event to ${callId} returned no sequence number`);
    return row.seq;
  }

  async partyEventsSince(callId: SessionId, since: number): Promise<QueuedEvent[]> {
    return this.db.query<QueuedEvent>(SQL.partyEventsSince, [callId, since]);
  }

  async markPartyEventSeen(callId: SessionId, eventId: string): Promise<boolean> {
    return (await this.db.query(SQL.markPartyEventSeen, [callId, eventId])).length > 0;
  }

  async markEventsHandled(eventIds: readonly string[]): Promise<string[]> {
    if (eventIds.length === 0) return [];
    return (await this.db.query<{ event_id: string }>(SQL.markEventsHandled, [eventIds])).map((r) => r.event_id);
  }

  async recentHandledEvents(limit: number): Promise<string[]> {
    return (await this.db.query<{ event_id: string }>(SQL.recentHandledEvents, [limit])).map((r) => r.event_id);
  }

  async pruneHandledEvents(keep: number): Promise<void> {
    await this.db.query(SQL.pruneHandledEvents, [keep]);
  }

  async getUserRules(userId: MatrixUserId): Promise<UserRules | undefined> {
    const [row] = await this.db.query<UserRulesRow>(SQL.getUserRules, [userId]);
    return row && toUserRules(row);
  }

  async saveUserRules(next: UserRules, expectedVersion: number): Promise<boolean> {
    const params = [next.userId, JSON.stringify(next.rules), next.defaultAction, next.timeZone, next.notifyRefused, Date.now()];
    const rows = expectedVersion === 0
      ? await this.db.query(SQL.insertUserRules, params)
      : await this.db.query(SQL.updateUserRules, [...params, expectedVersion]);
    return rows.length > 0;
  }

  async putBotRoom(roomId: RoomId, userId: MatrixUserId): Promise<void> {
    await this.db.query(SQL.putBotRoom, [roomId, userId]);
  }

  async getBotRoom(roomId: RoomId): Promise<BotRoom | undefined> {
    const [row] = await this.db.query<{ room_id: string; user_id: string }>(SQL.getBotRoom, [roomId]);
    return row && { roomId: row.room_id as RoomId, userId: row.user_id as MatrixUserId };
  }

  async deleteBotRoom(roomId: RoomId): Promise<void> {
    await this.db.query(SQL.deleteBotRoom, [roomId]);
  }

  async createProvisioningSession(session: ProvisioningSession): Promise<void> {
    await this.db.query(SQL.createProvisioningSession, [session.tokenHash, session.userId, session.expiresAt]);
  }

  async getProvisioningSession(tokenHash: string): Promise<ProvisioningSession | undefined> {
    const [row] = await this.db.query<ProvisioningSessionRow>(SQL.getProvisioningSession, [tokenHash]);
    return row && { tokenHash: row.token_hash, userId: row.user_id as MatrixUserId, expiresAt: Number(row.expires_at) };
  }

  async deleteProvisioningSession(tokenHash: string): Promise<void> {
    await this.db.query(SQL.deleteProvisioningSession, [tokenHash]);
  }

  async deleteProvisioningSessions(userId: MatrixUserId): Promise<void> {
    await this.db.query(SQL.deleteProvisioningSessions, [userId]);
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.query<{ key_id: string; seed: string; created_at: string | number; expired_at: string | number | null }>(SQL.listSigningKeys);
    return rows.map((r) => ({ keyId: r.key_id, seed: r.seed, createdAt: Number(r.created_at), expiredAt: nullableNumber(r.expired_at) }));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.db.query(SQL.insertSigningKey, [key.keyId, key.seed, key.createdAt, key.expiredAt]);
  }

  async retireSigningKey(keyId: string, expiredAt: number): Promise<void> {
    await this.db.query(SQL.retireSigningKey, [keyId, expiredAt]);
  }

  async deleteSigningKeysRetiredBefore(before: number): Promise<void> {
    await this.db.query(SQL.deleteSigningKeysRetiredBefore, [before]);
  }
}
