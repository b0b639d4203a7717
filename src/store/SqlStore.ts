import { MatrixUserId, RoomId } from "../ids/matrix";
import { SessionId } from "../ids/session";
import { DefaultAction, Rule, UserRules } from "../model/rules";
import { SqlClient } from "./sql";
import {
  BotRoom, DmRoom, ProvisioningSession, QueuedEvent, SigningKeyRecord, Store,
} from "./Store";
import { SqlSessions } from "./SqlSessions";
import { CalendarStore } from "./CalendarStore";
import { SqlCalendars } from "./SqlCalendars";
import { RotaStore } from "./RotaStore";
import { CachedRotas } from "./CachedRotas";
import { SqlRotas } from "./SqlRotas";

/**
 * Every statement is a fixed, parameterised text (the session and leg
 * transitions' SET lists depend on the patch's keys: SqlSessions builds each once), so PostgreSQL can keep it
 * prepared per connection. Result columns are always listed, never `*`.
 */

function nullableNumber(value: string | number | null): number | null {
  return value === null ? null : Number(value);
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

const SQL = {
  isRegistered: "SELECT 1 FROM registered_virtual_users WHERE user_id = $1",
  markRegistered: "INSERT INTO registered_virtual_users (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING",
  getDmRoom: `${DM_SELECT} WHERE matrix_user_id = $1 AND virtual_user_id = $2`,
  getDmRoomById: `${DM_SELECT} WHERE room_id = $1`,
  deleteDmRoomsFor: "DELETE FROM dm_rooms WHERE (matrix_user_id = $1 AND virtual_user_id = $2) OR room_id = $3",
  insertDmRoom: "INSERT INTO dm_rooms (matrix_user_id, virtual_user_id, room_id, matrix_user_joined) VALUES ($1, $2, $3, $4)",
  setMatrixUserJoined: "UPDATE dm_rooms SET matrix_user_joined = $2 WHERE room_id = $1",
  deleteDmRoom: "DELETE FROM dm_rooms WHERE room_id = $1",
  /** One statement: bump the session's counter (the row lock orders racing
   *  appends) and insert the event under the new number. */
  appendPartyEvent: `WITH counter AS (
      INSERT INTO party_event_counters AS c (session_id, last_seq) VALUES ($1, 1)
      ON CONFLICT (session_id) DO UPDATE SET last_seq = c.last_seq + 1
      RETURNING last_seq)
    INSERT INTO party_events (session_id, seq, event) SELECT $1, last_seq, $2::jsonb FROM counter RETURNING seq`,
  partyEventsSince: "SELECT seq, event FROM party_events WHERE session_id = $1 AND seq > $2 ORDER BY seq",
  markPartyEventSeen: "INSERT INTO party_events_seen (session_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS inserted",
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

/** The store on SQL; sessions and legs are in SqlSessions. */
export class SqlStore extends SqlSessions implements Store {
  readonly rotas: RotaStore;
  readonly calendars: CalendarStore;

  constructor(db: SqlClient) {
    super(db);
    this.rotas = new CachedRotas(new SqlRotas(db));
    this.calendars = new SqlCalendars(db);
  }

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

  async appendPartyEvent(sessionId: SessionId, event: Record<string, unknown>): Promise<number> {
    const [row] = await this.db.query<{ seq: number }>(SQL.appendPartyEvent, [sessionId, JSON.stringify(event)]);
    if (row === undefined) throw new Error(`appending a party event to ${sessionId} returned no sequence number`);
    return row.seq;
  }

  async partyEventsSince(sessionId: SessionId, since: number): Promise<QueuedEvent[]> {
    return this.db.query<QueuedEvent>(SQL.partyEventsSince, [sessionId, since]);
  }

  async markPartyEventSeen(sessionId: SessionId, eventId: string): Promise<boolean> {
    return (await this.db.query(SQL.markPartyEventSeen, [sessionId, eventId])).length > 0;
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
