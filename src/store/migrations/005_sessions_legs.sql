-- A call becomes a session (the WebCall side: token, caller, callee,
-- lifetime, delivery) and its legs (one Matrix call each: room, call_id,
-- party ids, its own state). docs/call-states.md describes both.
-- Every row of `calls` is carried over, live ones included: a call ringing
-- during the upgrade keeps its session id, Matrix call_id and token, and
-- ends as it would have.

CREATE TABLE sessions (
  session_id         text PRIMARY KEY,
  kind               text NOT NULL CHECK (kind IN ('inbound', 'outbound', 'relay_in', 'relay_out')),
  state              text NOT NULL CHECK (state IN ('preparing', 'ringing', 'connected', 'ended', 'replaced')),
  virtual_user_id    text NOT NULL,
  caller_address     text,
  callee_address     text NOT NULL,
  -- relay_in and relay_out: our user who forwards.
  forwarded_by       text,
  -- relay_in and relay_out: the other half.
  peer_session       text,
  -- NULL: no party holds a token yet (an outbound call not yet placed).
  token_hash         text,
  notify_url         text,
  notify_token       text,
  peer_node          text,
  offer              jsonb NOT NULL,
  answer             jsonb,
  lifetime_ms        bigint NOT NULL,
  created_at         bigint NOT NULL,
  expires_at         bigint NOT NULL,
  answered_at        bigint,
  ended_at           bigint,
  end_reason         text,
  replaced_by        text,
  via                jsonb NOT NULL,
  setup_fingerprint  text,
  setup_response     jsonb,
  caller_identity    jsonb,
  -- inbound: NULL rings every leg at once; else each leg for this long, in turn.
  ring_step_ms       integer,
  CHECK ((kind IN ('relay_in', 'relay_out')) = (forwarded_by IS NOT NULL AND peer_session IS NOT NULL))
);

CREATE TABLE legs (
  call_id          text PRIMARY KEY,
  session_id       text NOT NULL REFERENCES sessions (session_id),
  position         integer NOT NULL,
  state            text NOT NULL CHECK (state IN ('queued', 'preparing', 'awaiting_join', 'ringing', 'connected', 'ended')),
  matrix_user_id   text NOT NULL,
  virtual_user_id  text NOT NULL,
  room_id          text,
  bridge_party_id  text NOT NULL,
  matrix_party_id  text,
  matrix_version   text NOT NULL,
  end_reason       text,
  UNIQUE (session_id, position)
);

-- Queries must use the same predicates for these partial indexes to apply.
CREATE INDEX sessions_live ON sessions (created_at) WHERE state NOT IN ('ended', 'replaced');
CREATE INDEX legs_live ON legs (session_id) WHERE state <> 'ended';
CREATE INDEX legs_live_in_room ON legs (room_id, session_id) WHERE state <> 'ended';

INSERT INTO sessions (session_id, kind, state, virtual_user_id, caller_address, callee_address, forwarded_by, peer_session,
    token_hash, notify_url, notify_token, peer_node, offer, answer, lifetime_ms, created_at, expires_at, answered_at,
    ended_at, end_reason, replaced_by, via, setup_fingerprint, setup_response, caller_identity)
  SELECT call_id, direction,
    -- An inbound session rings from the start; its leg says how far it got.
    CASE WHEN direction = 'inbound' AND state IN ('preparing', 'awaiting_join') THEN 'ringing' ELSE state END,
    virtual_user_id, caller_address, callee_address,
    CASE WHEN direction IN ('relay_in', 'relay_out') THEN matrix_user_id END,
    CASE WHEN direction IN ('relay_in', 'relay_out') THEN relay_peer END,
    -- '' stood for "no node yet".
    NULLIF(token_hash, ''), notify_url, notify_token, peer_node, offer, answer, lifetime_ms, created_at, expires_at,
    answered_at, ended_at, end_reason, replaced_by, via, setup_fingerprint, setup_response, caller_identity
  FROM calls;

-- Inbound and outbound calls had one Matrix call each, its call_id the session id.
INSERT INTO legs (call_id, session_id, position, state, matrix_user_id, virtual_user_id, room_id, bridge_party_id,
    matrix_party_id, matrix_version, end_reason)
  SELECT call_id, call_id, 0,
    CASE
      WHEN state = 'replaced' THEN 'ended'
      -- An outbound leg is the Matrix user's own invite: out from the start.
      WHEN direction = 'outbound' AND state = 'preparing' THEN 'ringing'
      ELSE state
    END,
    matrix_user_id, virtual_user_id, room_id, bridge_party_id, matrix_party_id, matrix_version,
    CASE WHEN state IN ('ended', 'replaced') THEN end_reason END
  FROM calls WHERE direction IN ('inbound', 'outbound');

DROP TABLE calls;

-- Party events belong to sessions.
ALTER TABLE party_event_counters RENAME COLUMN call_id TO session_id;
ALTER TABLE party_events RENAME COLUMN call_id TO session_id;
ALTER TABLE party_events_seen RENAME COLUMN call_id TO session_id;
