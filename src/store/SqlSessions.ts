import { RoomId } from "../ids/matrix";
import { SessionId } from "../ids/session";
import { Leg, LegId, LegPatch, LegState } from "../model/leg";
import { MemberOutSession, Session, SessionPatch, SessionState } from "../model/session";
import {
  LEG_COLUMNS, LegRow, SESSION_COLUMNS, SessionRow, legPatchColumns, legValues, placeholder, sessionPatchColumns,
  sessionValues, toLeg, toSession,
} from "./sessionRows";
import { SqlClient } from "./sql";
import { AnswerWon, EndedLeg } from "./Store";

/**
 * Sessions and legs in SQL. Every state change is one conditional
 * statement (`WHERE state = ANY(from)`), so a retried request, a re-pushed
 * event or a second bridge instance cannot apply it twice; the ones that
 * touch a session and its legs (an answer, an ending) are one statement
 * too, so they are atomic without a transaction's round trips.
 */

const S = SESSION_COLUMNS.join(", ");
const L = LEG_COLUMNS.join(", ");
/** legs' columns from the `legs` table where a statement joins another. */
const LQ = LEG_COLUMNS.map((c) => `legs.${c}`).join(", ");
/** The legs' columns' SQL types (the rest are text), for jsonb_to_recordset and parameters. */
const LEG_TYPE: Partial<Record<string, string>> = { position: "integer", step: "integer", step_ends_at: "bigint" };
const legType = (c: string): string => LEG_TYPE[c] ?? "text";
const LEG_TYPES = LEG_COLUMNS.map((c) => `${c} ${legType(c)}`).join(", ");
/** Must match the partial indexes' predicates in 005_sessions_legs.sql. */
const LIVE_SESSION = "state NOT IN ('ended', 'replaced')";
const LIVE_LEG = "state <> 'ended'";

const SQL = {
  /** One statement, so a setup costs one round trip: the session, and its
   *  legs (a jsonb array) only if the session was new. */
  insertSession: `WITH s AS (
      INSERT INTO sessions (${S}) VALUES (${SESSION_COLUMNS.map((c, i) => placeholder(c, i + 1)).join(", ")})
      ON CONFLICT (session_id) DO NOTHING RETURNING session_id),
    l AS (INSERT INTO legs (${L}) SELECT ${LEG_COLUMNS.map((c) => `r.${c}`).join(", ")}
      FROM s CROSS JOIN jsonb_to_recordset($${SESSION_COLUMNS.length + 1}::jsonb) AS r(${LEG_TYPES}) RETURNING 1)
    SELECT session_id, (SELECT count(*) FROM l) AS legs FROM s`,
  /** The common cases, planned more simply: no leg, or one given as parameters. */
  insertBare: `INSERT INTO sessions (${S}) VALUES (${SESSION_COLUMNS.map((c, i) => placeholder(c, i + 1)).join(", ")})
    ON CONFLICT (session_id) DO NOTHING RETURNING session_id`,
  insertWithLeg: `WITH s AS (
      INSERT INTO sessions (${S}) VALUES (${SESSION_COLUMNS.map((c, i) => placeholder(c, i + 1)).join(", ")})
      ON CONFLICT (session_id) DO NOTHING RETURNING session_id)
    INSERT INTO legs (${L}) SELECT ${LEG_COLUMNS.map((c, i) => `$${SESSION_COLUMNS.length + 1 + i}::${legType(c)}`).join(", ")}
      FROM s RETURNING call_id`,
  getSession: `SELECT ${S} FROM sessions WHERE session_id = $1`,
  getLeg: `SELECT ${L} FROM legs WHERE call_id = $1`,
  withLegs: `SELECT ${S}, (SELECT jsonb_agg(to_jsonb(l) ORDER BY l.position) FROM (SELECT ${L} FROM legs WHERE session_id = $1) AS l) AS legs
    FROM sessions WHERE session_id = $1`,
  legsOf: `SELECT ${L} FROM legs WHERE session_id = $1 ORDER BY position`,
  liveSessions: `SELECT ${S} FROM sessions WHERE ${LIVE_SESSION} ORDER BY created_at, session_id`,
  /** Must match the partial index in 010_member_attempts.sql. */
  memberAttempts: `SELECT ${S} FROM sessions WHERE kind = 'member_out' AND peer_session = $1 ORDER BY created_at, session_id`,
  liveLegsInRoom: `SELECT ${LQ} FROM legs JOIN sessions USING (session_id)
    WHERE legs.room_id = $1 AND legs.${LIVE_LEG} ORDER BY sessions.created_at, legs.session_id, legs.position`,
} as const;

/** Statements that depend on a patch's columns, built once per set of columns. */
const built = new Map<string, string>();

function once(key: string, build: () => string): string {
  let text = built.get(key);
  if (text === undefined) {
    text = build();
    built.set(key, text);
  }
  return text;
}

function setList(columns: readonly string[], first: number, table?: string): string {
  if (columns.length === 0) return table ? `state = ${table}.state` : "state = state";
  return columns.map((c, i) => `${c} = ${placeholder(c, first + i)}`).join(", ");
}

/** Ends a session's other live legs as `reason` ($k), keeping what they were. */
function endLegs(sessionParam: string, reasonParam: string, exceptParam?: string): string {
  return `UPDATE legs SET state = 'ended', end_reason = ${reasonParam}
    FROM (SELECT call_id, state AS was FROM legs WHERE session_id = ${sessionParam} AND ${LIVE_LEG}
      ${exceptParam ? `AND call_id <> ${exceptParam}` : ""}) AS before
    WHERE legs.call_id = before.call_id AND EXISTS (SELECT 1 FROM s) RETURNING ${LQ}, before.was`;
}

type EndedLegRow = LegRow & { was: LegState };

function toEndedLegs(rows: EndedLegRow[] | null): EndedLeg[] {
  return (rows ?? []).map((r) => ({ ...toLeg(r), was: r.was }));
}

export class SqlSessions {
  constructor(protected readonly db: SqlClient) {}

  async insertSession(session: Session, legs: readonly Leg[]): Promise<{ inserted: true } | { inserted: false; existing: Session }> {
    const rows = legs.length === 0 ? await this.db.query(SQL.insertBare, sessionValues(session))
      : legs.length === 1 ? await this.db.query(SQL.insertWithLeg, [...sessionValues(session), ...legValues(legs[0]!)])
        : await this.db.query(SQL.insertSession, [...sessionValues(session), JSON.stringify(legs.map((leg) => {
          const values = legValues(leg);
          return Object.fromEntries(LEG_COLUMNS.map((c, i) => [c, values[i]]));
        }))]);
    if (rows.length > 0) return { inserted: true };
    // ON CONFLICT DO NOTHING waited for any racing insert to commit, so the row is visible now.
    const existing = await this.getSession(session.id);
    if (existing === undefined) throw new Error(`session ${session.id} conflicted on insert but cannot be read`);
    return { inserted: false, existing };
  }

  async getSession(id: SessionId): Promise<Session | undefined> {
    const [row] = await this.db.query<SessionRow>(SQL.getSession, [id]);
    return row && toSession(row);
  }

  async getSessionWithLegs(id: SessionId): Promise<{ session: Session; legs: Leg[] } | undefined> {
    const [row] = await this.db.query<SessionRow & { legs: LegRow[] | null }>(SQL.withLegs, [id]);
    return row && { session: toSession(row), legs: (row.legs ?? []).map(toLeg) };
  }

  async getLeg(callId: LegId): Promise<Leg | undefined> {
    const [row] = await this.db.query<LegRow>(SQL.getLeg, [callId]);
    return row && toLeg(row);
  }

  async legsOf(sessionId: SessionId): Promise<Leg[]> {
    return (await this.db.query<LegRow>(SQL.legsOf, [sessionId])).map(toLeg);
  }

  async transitionSession(id: SessionId, fromStates: readonly SessionState[], patch: SessionPatch): Promise<Session | undefined> {
    const set = sessionPatchColumns(patch);
    const columns = set.map(([c]) => c);
    const text = once(`session:${columns.join(",")}`, () =>
      `UPDATE sessions SET ${setList(columns, 3)} WHERE session_id = $1 AND state = ANY($2::text[]) RETURNING ${S}`);
    const [row] = await this.db.query<SessionRow>(text, [id, fromStates, ...set.map(([, v]) => v)]);
    return row && toSession(row);
  }

  async transitionLeg(callId: LegId, fromStates: readonly LegState[], patch: LegPatch): Promise<Leg | undefined> {
    const set = legPatchColumns(patch);
    const columns = set.map(([c]) => c);
    const text = once(`leg:${columns.join(",")}`, () =>
      `UPDATE legs SET ${setList(columns, 3)} WHERE call_id = $1 AND state = ANY($2::text[]) RETURNING ${L}`);
    const [row] = await this.db.query<LegRow>(text, [callId, fromStates, ...set.map(([, v]) => v)]);
    return row && toLeg(row);
  }

  async answerLeg(callId: LegId, sessionId: SessionId, from: { session: readonly SessionState[]; leg: readonly LegState[] },
    patch: { session: SessionPatch; leg: LegPatch }): Promise<AnswerWon | undefined> {
    const sessionSet = sessionPatchColumns(patch.session);
    const legSet = legPatchColumns(patch.leg);
    const sc = sessionSet.map(([c]) => c), lc = legSet.map(([c]) => c);
    const first = 5 + sc.length;
    const text = once(`answer:${sc.join(",")}:${lc.join(",")}`, () => `WITH s AS (
        UPDATE sessions SET ${setList(sc, 5)} WHERE session_id = $1 AND state = ANY($3::text[])
          AND EXISTS (SELECT 1 FROM legs WHERE call_id = $2 AND session_id = $1 AND state = ANY($4::text[]))
        RETURNING ${S}),
      w AS (UPDATE legs SET ${setList(lc, first)} WHERE call_id = $2 AND EXISTS (SELECT 1 FROM s) RETURNING ${L}),
      o AS (${endLegs("$1", "'answered_elsewhere'", "$2")})
      SELECT ${S}, (SELECT to_jsonb(w) FROM w) AS won, (SELECT jsonb_agg(to_jsonb(o)) FROM o) AS others FROM s`);
    const params = [sessionId, callId, from.session, from.leg, ...sessionSet.map(([, v]) => v), ...legSet.map(([, v]) => v)];
    const [row] = await this.db.query<SessionRow & { won: LegRow | null; others: EndedLegRow[] | null }>(text, params);
    if (!row?.won) return undefined;
    return { session: toSession(row), leg: toLeg(row.won), others: toEndedLegs(row.others) };
  }

  async endSession(id: SessionId, fromStates: readonly SessionState[], patch: SessionPatch, legReason: string):
    Promise<{ session: Session; legs: EndedLeg[] } | undefined> {
    const set = sessionPatchColumns(patch);
    const columns = set.map(([c]) => c);
    const text = once(`end:${columns.join(",")}`, () => `WITH s AS (
        UPDATE sessions SET ${setList(columns, 4)} WHERE session_id = $1 AND state = ANY($2::text[]) RETURNING ${S}),
      l AS (${endLegs("$1", "$3")})
      SELECT ${S}, (SELECT jsonb_agg(to_jsonb(l)) FROM l) AS legs FROM s`);
    const [row] = await this.db.query<SessionRow & { legs: EndedLegRow[] | null }>(text, [id, fromStates, legReason, ...set.map(([, v]) => v)]);
    return row && { session: toSession(row), legs: toEndedLegs(row.legs) };
  }

  async liveSessions(): Promise<Session[]> {
    return (await this.db.query<SessionRow>(SQL.liveSessions)).map(toSession);
  }

  async memberAttempts(parent: SessionId): Promise<MemberOutSession[]> {
    return (await this.db.query<SessionRow>(SQL.memberAttempts, [parent])).map(toSession) as MemberOutSession[];
  }

  async liveLegsInRoom(roomId: RoomId): Promise<Leg[]> {
    return (await this.db.query<LegRow>(SQL.liveLegsInRoom, [roomId])).map(toLeg);
  }
}
