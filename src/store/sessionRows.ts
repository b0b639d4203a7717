import { Address } from "../ids/address";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { SessionId } from "../ids/session";
import { CallerIdentity, UNVERIFIED } from "../model/callerIdentity";
import { Leg, LegId, LegPatch, LegState } from "../model/leg";
import { RotaCall } from "../model/rota";
import { PartyLink, Session, SessionPatch, SessionState } from "../model/session";
import { SessionDescription } from "../protocol/types";

/**
 * Sessions and legs as rows. A session's kinds share one table; a column a
 * kind does not have is NULL in its row and absent from its type, so the
 * row is turned into a session by its kind (a row that breaks its kind's
 * shape is a bug, reported as such).
 */

export const SESSION_COLUMNS = [
  "session_id", "kind", "state", "virtual_user_id", "caller_address", "callee_address", "forwarded_by", "peer_session",
  "token_hash", "notify_url", "notify_token", "peer_node", "offer", "answer", "lifetime_ms", "created_at", "expires_at",
  "answered_at", "ended_at", "end_reason", "replaced_by", "via", "setup_fingerprint", "setup_response", "caller_identity", "ring_step_ms",
  "rota_call",
] as const;
export const LEG_COLUMNS = [
  "call_id", "session_id", "position", "state", "matrix_user_id", "virtual_user_id", "room_id", "bridge_party_id",
  "matrix_party_id", "matrix_version", "end_reason", "step", "step_ends_at",
] as const;
export const JSON_COLUMNS = new Set(["offer", "answer", "via", "setup_response", "caller_identity", "rota_call"]);

/** int8 arrives as a string from pg, as a number from PGlite and from jsonb. */
type Int8 = string | number;

export interface SessionRow {
  session_id: string; kind: Session["kind"]; state: SessionState; virtual_user_id: string;
  caller_address: string | null; callee_address: string; forwarded_by: string | null; peer_session: string | null;
  token_hash: string | null; notify_url: string | null; notify_token: string | null; peer_node: string | null;
  offer: SessionDescription; answer: SessionDescription | null; lifetime_ms: Int8; created_at: Int8; expires_at: Int8;
  answered_at: Int8 | null; ended_at: Int8 | null; end_reason: string | null; replaced_by: string | null; via: string[];
  setup_fingerprint: string | null; setup_response: Record<string, unknown> | null; caller_identity: CallerIdentity | null;
  ring_step_ms: number | null; rota_call: RotaCall | null;
}

export interface LegRow {
  call_id: string; session_id: string; position: number; state: LegState; matrix_user_id: string; virtual_user_id: string;
  room_id: string | null; bridge_party_id: string; matrix_party_id: string | null; matrix_version: string; end_reason: string | null;
  step: number; step_ends_at: Int8 | null;
}

type SessionColumn = (typeof SESSION_COLUMNS)[number];
type LegColumn = (typeof LEG_COLUMNS)[number];

function num(value: Int8 | null): number | null {
  return value === null ? null : Number(value);
}

function partyOf(row: SessionRow): PartyLink | null {
  if (row.token_hash === null) return null;
  return {
    tokenHash: row.token_hash,
    delivery: row.notify_url !== null && row.notify_token !== null
      ? { mode: "push", notifyUrl: row.notify_url, token: row.notify_token, peerNode: row.peer_node }
      : { mode: "pull" },
  };
}

function required<T>(value: T | null, row: SessionRow, column: string): T {
  if (value === null) throw new Error(`session ${row.session_id} (${row.kind}) has no ${column}`);
  return value;
}

export function toSession(row: SessionRow): Session {
  const base = {
    id: row.session_id as SessionId, state: row.state, virtualUserId: row.virtual_user_id as MatrixUserId,
    offer: row.offer, answer: row.answer, lifetimeMs: Number(row.lifetime_ms), createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at), answeredAt: num(row.answered_at), endedAt: num(row.ended_at),
    endReason: row.end_reason, replacedBy: row.replaced_by as SessionId | null, via: row.via,
  };
  const caller = row.caller_address as Address | null;
  const callee = row.callee_address as Address;
  const party = partyOf(row);
  const setup = { fingerprint: row.setup_fingerprint ?? "", response: row.setup_response };
  switch (row.kind) {
    case "inbound":
      return { ...base, kind: "inbound", caller, callee, identity: row.caller_identity ?? UNVERIFIED,
        ring: row.ring_step_ms === null ? { mode: "all" } : { mode: "sequence", stepMs: row.ring_step_ms },
        party: required(party, row, "token"), setup, ...(row.rota_call ? { rota: row.rota_call } : {}) };
    case "outbound":
      return { ...base, kind: "outbound", caller: required(caller, row, "caller"), callee, party };
    case "relay_in":
      return { ...base, kind: "relay_in", caller, callee, forwardedBy: required(row.forwarded_by, row, "forwarded_by") as MatrixUserId,
        identity: row.caller_identity ?? UNVERIFIED, party: required(party, row, "token"), setup,
        peer: required(row.peer_session, row, "peer_session") as SessionId };
    case "relay_out":
      return { ...base, kind: "relay_out", caller, callee, forwardedBy: required(row.forwarded_by, row, "forwarded_by") as MatrixUserId,
        party: required(party, row, "token"), peer: required(row.peer_session, row, "peer_session") as SessionId };
    case "member_out":
      return { ...base, kind: "member_out", caller, callee, party: required(party, row, "token"),
        parent: required(row.peer_session, row, "peer_session") as SessionId };
  }
}

function partyColumns(party: PartyLink | null): Partial<Record<SessionColumn, unknown>> {
  const push = party?.delivery.mode === "push" ? party.delivery : undefined;
  return { token_hash: party?.tokenHash ?? null, notify_url: push?.notifyUrl ?? null, notify_token: push?.token ?? null, peer_node: push?.peerNode ?? null };
}

/** The row's values, in SESSION_COLUMNS order. */
export function sessionValues(s: Session): unknown[] {
  const relay = s.kind === "relay_in" || s.kind === "relay_out" ? s : undefined;
  const setup = s.kind === "inbound" || s.kind === "relay_in" ? s.setup : undefined;
  const row: Record<SessionColumn, unknown> = {
    session_id: s.id, kind: s.kind, state: s.state, virtual_user_id: s.virtualUserId, caller_address: s.caller,
    callee_address: s.callee, forwarded_by: relay?.forwardedBy ?? null,
    peer_session: relay?.peer ?? (s.kind === "member_out" ? s.parent : null),
    ...partyColumns(s.party), offer: s.offer, answer: s.answer, lifetime_ms: s.lifetimeMs,
    created_at: s.createdAt, expires_at: s.expiresAt, answered_at: s.answeredAt, ended_at: s.endedAt, end_reason: s.endReason,
    replaced_by: s.replacedBy, via: s.via, setup_fingerprint: setup?.fingerprint ?? null, setup_response: setup?.response ?? null,
    caller_identity: s.kind === "inbound" || s.kind === "relay_in" ? s.identity : null,
    ring_step_ms: s.kind === "inbound" && s.ring.mode === "sequence" ? s.ring.stepMs : null,
    rota_call: s.kind === "inbound" ? s.rota ?? null : null,
  } as Record<SessionColumn, unknown>;
  return SESSION_COLUMNS.map((c) => encode(c, row[c]));
}

/** A patch as columns and values, in a fixed column order. */
export function sessionPatchColumns(patch: SessionPatch): [SessionColumn, unknown][] {
  const out: Partial<Record<SessionColumn, unknown>> = {};
  if (patch.state !== undefined) out.state = patch.state;
  if (patch.answer !== undefined) out.answer = patch.answer;
  if (patch.answeredAt !== undefined) out.answered_at = patch.answeredAt;
  if (patch.endedAt !== undefined) out.ended_at = patch.endedAt;
  if (patch.endReason !== undefined) out.end_reason = patch.endReason;
  if (patch.replacedBy !== undefined) out.replaced_by = patch.replacedBy;
  if (patch.party !== undefined) Object.assign(out, partyColumns(patch.party));
  if (patch.setupResponse !== undefined) out.setup_response = patch.setupResponse;
  return SESSION_COLUMNS.filter((c) => c in out).map((c) => [c, encode(c, out[c])]);
}

export function toLeg(row: LegRow): Leg {
  return {
    callId: row.call_id as LegId, sessionId: row.session_id as SessionId, position: row.position, state: row.state,
    matrixUserId: row.matrix_user_id as MatrixUserId, virtualUserId: row.virtual_user_id as MatrixUserId,
    roomId: row.room_id as RoomId | null, bridgePartyId: row.bridge_party_id, matrixPartyId: row.matrix_party_id,
    matrixVersion: row.matrix_version, endReason: row.end_reason, step: row.step, stepEndsAt: num(row.step_ends_at),
  };
}

export function legValues(l: Leg): unknown[] {
  return [l.callId, l.sessionId, l.position, l.state, l.matrixUserId, l.virtualUserId, l.roomId, l.bridgePartyId,
    l.matrixPartyId, l.matrixVersion, l.endReason, l.step, l.stepEndsAt];
}

export function legPatchColumns(patch: LegPatch): [LegColumn, unknown][] {
  const out: [LegColumn, unknown][] = [];
  if (patch.state !== undefined) out.push(["state", patch.state]);
  if (patch.roomId !== undefined) out.push(["room_id", patch.roomId]);
  if (patch.matrixPartyId !== undefined) out.push(["matrix_party_id", patch.matrixPartyId]);
  if (patch.matrixVersion !== undefined) out.push(["matrix_version", patch.matrixVersion]);
  if (patch.endReason !== undefined) out.push(["end_reason", patch.endReason]);
  if (patch.stepEndsAt !== undefined) out.push(["step_ends_at", patch.stepEndsAt]);
  return out;
}

/** jsonb values are sent as JSON text and cast. */
export function encode(column: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return JSON_COLUMNS.has(column) ? JSON.stringify(value) : value;
}

export function placeholder(column: string, n: number): string {
  return JSON_COLUMNS.has(column) ? `$${n}::jsonb` : `$${n}`;
}
