-- Initial schema of matrix-appservice-webcall.
-- Applied together with its row in schema_version, in one transaction.
-- Times are milliseconds since the epoch (bigint).

-- Virtual users known to be registered with the homeserver.
CREATE TABLE registered_virtual_users (
  user_id        text PRIMARY KEY,
  registered_at  bigint NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint
);

-- The two-party DM room of a Matrix user and a virtual user.
CREATE TABLE dm_rooms (
  matrix_user_id      text NOT NULL,
  virtual_user_id     text NOT NULL,
  room_id             text NOT NULL UNIQUE,
  matrix_user_joined  boolean NOT NULL,
  PRIMARY KEY (matrix_user_id, virtual_user_id)
);

-- One row per call (WebCall session = Matrix call_id).
CREATE TABLE calls (
  call_id            text PRIMARY KEY,
  direction          text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  state              text NOT NULL CHECK (state IN ('preparing', 'awaiting_join', 'ringing', 'connected', 'ended', 'replaced')),
  token_hash         text NOT NULL,
  caller_address     text,
  callee_address     text NOT NULL,
  matrix_user_id     text NOT NULL,
  virtual_user_id    text NOT NULL,
  room_id            text,
  bridge_party_id    text NOT NULL,
  matrix_party_id    text,
  matrix_version     text NOT NULL,
  offer              jsonb NOT NULL,
  answer             jsonb,
  lifetime_ms        bigint NOT NULL,
  created_at         bigint NOT NULL,
  expires_at         bigint NOT NULL,
  answered_at        bigint,
  ended_at           bigint,
  notify_url         text,
  notify_token       text,
  via                jsonb NOT NULL,
  setup_fingerprint  text,
  setup_response     jsonb,
  replaced_by        text,
  end_reason         text
);

-- Live calls (resumed after a restart) and live calls per room (glare, leave).
-- Queries must use the same predicate for these partial indexes to apply.
CREATE INDEX calls_live ON calls (created_at) WHERE state NOT IN ('ended', 'replaced');
CREATE INDEX calls_live_in_room ON calls (room_id, created_at) WHERE state NOT IN ('ended', 'replaced');

-- Session events queued for the WebCall party, numbered 1, 2, … per call.
-- The counter row serialises concurrent appends to one call.
CREATE TABLE party_event_counters (
  call_id   text PRIMARY KEY,
  last_seq  integer NOT NULL
);

CREATE TABLE party_events (
  call_id     text NOT NULL,
  seq         integer NOT NULL,
  event       jsonb NOT NULL,
  created_at  bigint NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint,
  PRIMARY KEY (call_id, seq)
);

-- Event ids from the WebCall party already applied (retries are dropped).
CREATE TABLE party_events_seen (
  call_id   text NOT NULL,
  event_id  text NOT NULL,
  seen_at   bigint NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint,
  PRIMARY KEY (call_id, event_id)
);

-- Appservice transactions fully processed (the homeserver retries them).
CREATE TABLE appservice_transactions (
  txn_id        text PRIMARY KEY,
  processed_at  bigint NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint
);
CREATE INDEX appservice_transactions_processed_at ON appservice_transactions (processed_at);
