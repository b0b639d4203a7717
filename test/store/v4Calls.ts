import { SqlClient } from "../../src/store/sql";

/**
 * `calls` rows as the code before migration 005 wrote them (one row per
 * call, four directions, '' for "no node yet"), for tests that upgrade a
 * live store: inbound ringing, awaiting_join and connected, an outbound call
 * still being placed and one ringing at the callee's node, a relay pair, and
 * an ended call.
 */
export interface V4Seed {
  now: number;
  alice: string;
  virtual: string;
  roomId: string;
  ids: Record<"ringing" | "awaiting" | "connected" | "outPreparing" | "outRinging" | "relayIn" | "relayOut" | "ended", string>;
  /** The inbound calls' session token (its sha256 is stored). */
  token: string;
}

const COLUMNS = ["call_id", "direction", "state", "token_hash", "caller_address", "callee_address", "matrix_user_id",
  "virtual_user_id", "room_id", "bridge_party_id", "matrix_party_id", "matrix_version", "offer", "answer", "lifetime_ms",
  "created_at", "expires_at", "answered_at", "ended_at", "notify_url", "notify_token", "via", "setup_fingerprint",
  "setup_response", "replaced_by", "end_reason", "relay_peer", "peer_node", "caller_identity"] as const;
type Row = Record<(typeof COLUMNS)[number], unknown>;
const JSON_COLUMNS = new Set(["offer", "answer", "via", "setup_response", "caller_identity"]);

export const V4_OFFER = { type: "offer", sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" };

async function insert(db: SqlClient, row: Row): Promise<void> {
  const values = COLUMNS.map((c) => (JSON_COLUMNS.has(c) && row[c] !== null ? JSON.stringify(row[c]) : row[c]));
  await db.query(`INSERT INTO calls (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map((c, i) => `$${i + 1}${JSON_COLUMNS.has(c) ? "::jsonb" : ""}`).join(", ")})`, values);
}

/** `tokenHash`: sha256 hex of `token`, computed by the caller (the hash the bridge keeps). */
export async function seedV4(db: SqlClient, opts: { alice: string; virtual: string; roomId: string; token: string; tokenHash: string;
  lifetimeMs: number; suffix: string; relayLifetimeMs?: number }): Promise<V4Seed> {
  const now = Date.now();
  const id = (name: string) => `v4${name}${opts.suffix}`.padEnd(20, "x");
  const ids = {
    ringing: id("ringing"), awaiting: id("awaiting"), connected: id("connected"), outPreparing: id("outprep"),
    outRinging: id("outring"), relayIn: id("relayin"), relayOut: id("relayout"), ended: id("ended"),
  };
  const base = (callId: string, createdAt: number): Row => ({
    call_id: callId, direction: "inbound", state: "ringing", token_hash: opts.tokenHash, caller_address: "alf@employer.com",
    callee_address: "alice@example.org", matrix_user_id: opts.alice, virtual_user_id: opts.virtual, room_id: opts.roomId,
    bridge_party_id: `bp${callId}`.slice(0, 12), matrix_party_id: null, matrix_version: "1", offer: V4_OFFER, answer: null,
    lifetime_ms: opts.lifetimeMs, created_at: createdAt, expires_at: createdAt + opts.lifetimeMs, answered_at: null, ended_at: null,
    notify_url: null, notify_token: null, via: [], setup_fingerprint: "f".repeat(64),
    setup_response: { status: "success", sessionId: callId, token: opts.token }, replaced_by: null, end_reason: null,
    relay_peer: null, peer_node: null, caller_identity: { verified: false, forwards: [] },
  });
  await insert(db, base(ids.ringing, now - 3000));
  await insert(db, { ...base(ids.awaiting, now - 2900), state: "awaiting_join" });
  await insert(db, { ...base(ids.connected, now - 2800), state: "connected", matrix_party_id: "ALICEDEVICE",
    answer: { type: "answer", sdp: "v=0\r\n" }, answered_at: now - 2000 });
  const outbound = (callId: string, createdAt: number): Row => ({
    ...base(callId, createdAt), direction: "outbound", caller_address: "alice@example.org", callee_address: "alf@employer.com",
    matrix_party_id: "ALICEINVITE", setup_fingerprint: null, setup_response: null, caller_identity: null,
  });
  await insert(db, { ...outbound(ids.outPreparing, now - 2700), state: "preparing", token_hash: "" });
  await insert(db, { ...outbound(ids.outRinging, now - 2600), state: "ringing", notify_url: "http://127.0.0.1:1/webcall",
    notify_token: "node-token", peer_node: "employer.com" });
  const relayLifetime = opts.relayLifetimeMs ?? opts.lifetimeMs;
  const relay = { ...base(ids.relayIn, now - 2500), room_id: null, matrix_version: "1", setup_response: null,
    lifetime_ms: relayLifetime, expires_at: now - 2500 + relayLifetime };
  await insert(db, { ...relay, direction: "relay_in", relay_peer: ids.relayOut });
  await insert(db, { ...relay, call_id: ids.relayOut, direction: "relay_out", token_hash: "77".repeat(32), callee_address: "bob@next.example",
    notify_url: "http://127.0.0.1:1/webcall", notify_token: "next-token", peer_node: "next.example", relay_peer: ids.relayIn,
    setup_fingerprint: null, caller_identity: null, via: [] });
  await insert(db, { ...base(ids.ended, now - 2400), state: "ended", end_reason: "invite_timeout", ended_at: now - 1000 });
  return { now, alice: opts.alice, virtual: opts.virtual, roomId: opts.roomId, ids, token: opts.token };
}
