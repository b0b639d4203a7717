import { MatrixUserId, RoomId } from "../ids/matrix";
import { UserRules } from "../model/rules";
import { Escalation, Override, Rota, RotaMember, RotaName, Rotation } from "../model/rota";
import { RotaAnnounced, RotaRoom, RotaSave, RotaStore } from "./RotaStore";
import { SqlClient } from "./sql";

/** Rotas in SQL (006_rotas.sql). Each save is one conditional statement. */

interface RotaRow {
  name: string;
  room_id: string;
  members: RotaMember[] | null;
  rotation: Rotation;
  anchor: string | number;
  overrides: Override[];
  escalation: Escalation;
  rules: Omit<UserRules, "version">;
  version: number;
}

function toRota(row: RotaRow): Rota {
  return {
    name: row.name as RotaName,
    roomId: row.room_id as RoomId,
    members: row.members,
    rotation: row.rotation,
    anchor: Number(row.anchor),
    overrides: row.overrides,
    escalation: row.escalation,
    // The rules are saved with the rota, so they share its version.
    rules: { ...row.rules, version: row.version },
    version: row.version,
  };
}

const COLUMNS = "name, room_id, members, rotation, anchor, overrides, escalation, rules, version";
const SELECT = `SELECT ${COLUMNS} FROM rotas`;

const SQL = {
  getRota: `${SELECT} WHERE name = $1`,
  getRotaByRoom: `${SELECT} WHERE room_id = $1`,
  listRotas: `${SELECT} ORDER BY name`,
  /** A racing first save (same name or same room) makes this insert nothing. */
  insertRota: `INSERT INTO rotas (${COLUMNS}, updated_at)
    VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6::jsonb, $7::jsonb, $8::jsonb, 1, $9) ON CONFLICT DO NOTHING RETURNING 1 AS saved`,
  /** Why a first save inserted nothing. */
  taken: "SELECT name = $1 AS same_name FROM rotas WHERE name = $1 OR room_id = $2 ORDER BY (name = $1) DESC LIMIT 1",
  /** Later saves: only over the version the edit was made from (name and room never change). */
  updateRota: `UPDATE rotas SET members = $3::jsonb, rotation = $4::jsonb, anchor = $5, overrides = $6::jsonb, escalation = $7::jsonb,
    rules = $8::jsonb, version = version + 1, updated_at = $9 WHERE name = $1 AND room_id = $2 AND version = $10 RETURNING 1 AS saved`,
  deleteRota: "DELETE FROM rotas WHERE name = $1 AND version = $2 RETURNING 1 AS deleted",
  putRotaRoom: `INSERT INTO rota_rooms (room_id, invited_by, joined_at) VALUES ($1, $2, $3)
    ON CONFLICT (room_id) DO UPDATE SET invited_by = EXCLUDED.invited_by, joined_at = EXCLUDED.joined_at`,
  getRotaRoom: "SELECT room_id, invited_by, joined_at FROM rota_rooms WHERE room_id = $1",
  deleteRotaRoom: "DELETE FROM rota_rooms WHERE room_id = $1",
  getAnnounced: "SELECT member, shift_from, reminded, version FROM rota_announcements WHERE name = $1",
  /** The first save: only for a rota that exists, and only once (a racing one inserts nothing). */
  insertAnnounced: `INSERT INTO rota_announcements (name, member, shift_from, reminded, version)
    SELECT $1, $2, $3, $4, 1 WHERE EXISTS (SELECT 1 FROM rotas WHERE name = $1) ON CONFLICT (name) DO NOTHING RETURNING 1 AS saved`,
  updateAnnounced: `UPDATE rota_announcements SET member = $2, shift_from = $3, reminded = $4, version = version + 1
    WHERE name = $1 AND version = $5 RETURNING 1 AS saved`,
} as const;

/** Exactly the rules' chosen fields, so nothing else a caller passes is saved. */
function rulesJson(rules: UserRules): string {
  const { userId, rules: list, defaultAction, timeZone, notifyRefused } = rules;
  return JSON.stringify({ userId, rules: list, defaultAction, timeZone, notifyRefused });
}

export class SqlRotas implements RotaStore {
  constructor(private readonly db: SqlClient) {}

  async getRota(name: RotaName): Promise<Rota | undefined> {
    const [row] = await this.db.query<RotaRow>(SQL.getRota, [name]);
    return row && toRota(row);
  }

  async getRotaByRoom(roomId: RoomId): Promise<Rota | undefined> {
    const [row] = await this.db.query<RotaRow>(SQL.getRotaByRoom, [roomId]);
    return row && toRota(row);
  }

  async listRotas(): Promise<Rota[]> {
    return (await this.db.query<RotaRow>(SQL.listRotas)).map(toRota);
  }

  async saveRota(next: Rota, expectedVersion: number): Promise<RotaSave> {
    const params = [next.name, next.roomId, next.members === null ? null : JSON.stringify(next.members), JSON.stringify(next.rotation),
      next.anchor, JSON.stringify(next.overrides), JSON.stringify(next.escalation), rulesJson(next.rules), Date.now()];
    if (expectedVersion !== 0) {
      return (await this.db.query(SQL.updateRota, [...params, expectedVersion])).length > 0 ? "saved" : "conflict";
    }
    if ((await this.db.query(SQL.insertRota, params)).length > 0) return "saved";
    const [taken] = await this.db.query<{ same_name: boolean }>(SQL.taken, [next.name, next.roomId]);
    // Gone again between the two statements: the first save lost a race all the same.
    if (taken === undefined) return "conflict";
    return taken.same_name ? "name_taken" : "room_taken";
  }

  async deleteRota(name: RotaName, expectedVersion: number): Promise<boolean> {
    return (await this.db.query(SQL.deleteRota, [name, expectedVersion])).length > 0;
  }

  async putRotaRoom(room: RotaRoom): Promise<void> {
    await this.db.query(SQL.putRotaRoom, [room.roomId, room.invitedBy, room.joinedAt]);
  }

  async getRotaRoom(roomId: RoomId): Promise<RotaRoom | undefined> {
    const [row] = await this.db.query<{ room_id: string; invited_by: string; joined_at: string | number }>(SQL.getRotaRoom, [roomId]);
    return row && { roomId: row.room_id as RoomId, invitedBy: row.invited_by as MatrixUserId, joinedAt: Number(row.joined_at) };
  }

  async deleteRotaRoom(roomId: RoomId): Promise<void> {
    await this.db.query(SQL.deleteRotaRoom, [roomId]);
  }

  async getAnnounced(name: RotaName): Promise<RotaAnnounced | undefined> {
    const [row] = await this.db.query<{ member: string | null; shift_from: string | number | null; reminded: string | null; version: number }>(
      SQL.getAnnounced, [name]);
    return row && { member: row.member, shiftFrom: row.shift_from === null ? null : Number(row.shift_from), reminded: row.reminded, version: row.version };
  }

  async saveAnnounced(name: RotaName, next: Omit<RotaAnnounced, "version">, expectedVersion: number): Promise<boolean> {
    const params = [name, next.member, next.shiftFrom, next.reminded];
    const rows = expectedVersion === 0 ? await this.db.query(SQL.insertAnnounced, params)
      : await this.db.query(SQL.updateAnnounced, [...params, expectedVersion]);
    return rows.length > 0;
  }
}
