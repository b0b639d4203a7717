import { RotaName } from "../model/rota";
import { CalendarSecret, CalendarStore } from "./CalendarStore";
import { SqlClient } from "./sql";

/** Calendar feed secrets in SQL (007_rota_calendars.sql). */

interface Row {
  name: string;
  secret: string;
  created_at: string | number;
}

const SQL = {
  get: "SELECT name, secret, created_at FROM rota_calendars WHERE name = $1",
  /** Only for an existing rota; a racing first secret wins and both callers get it. */
  putIfNone: `INSERT INTO rota_calendars (name, secret, created_at) SELECT name, $2, $3 FROM rotas WHERE name = $1
    ON CONFLICT (name) DO NOTHING`,
  replace: `INSERT INTO rota_calendars (name, secret, created_at) SELECT name, $2, $3 FROM rotas WHERE name = $1
    ON CONFLICT (name) DO UPDATE SET secret = EXCLUDED.secret, created_at = EXCLUDED.created_at RETURNING 1 AS saved`,
} as const;

const toSecret = (row: Row): CalendarSecret => ({ name: row.name as RotaName, secret: row.secret, createdAt: Number(row.created_at) });

export class SqlCalendars implements CalendarStore {
  constructor(private readonly db: SqlClient) {}

  async getCalendarSecret(name: RotaName): Promise<CalendarSecret | undefined> {
    const [row] = await this.db.query<Row>(SQL.get, [name]);
    return row && toSecret(row);
  }

  async putCalendarSecretIfNone(secret: CalendarSecret): Promise<CalendarSecret | undefined> {
    await this.db.query(SQL.putIfNone, [secret.name, secret.secret, secret.createdAt]);
    return this.getCalendarSecret(secret.name);
  }

  async replaceCalendarSecret(secret: CalendarSecret): Promise<boolean> {
    return (await this.db.query(SQL.replace, [secret.name, secret.secret, secret.createdAt])).length > 0;
  }
}
