-- Receiver chooses: per-user rules, the bot's command rooms, provisioning
-- sessions, and calls forwarded to another node (two linked legs).

-- One row per Matrix user who chose anything. `version` makes every save
-- conditional (compare-and-set), so concurrent edits cannot lose one another.
CREATE TABLE user_rules (
  user_id         text PRIMARY KEY,
  rules           jsonb NOT NULL,
  default_action  text CHECK (default_action IN ('ring', 'refuse')),
  time_zone       text,
  notify_refused  boolean NOT NULL DEFAULT false,
  version         integer NOT NULL,
  updated_at      bigint NOT NULL
);

-- Rooms where a user talks to the bridge bot (its command DM).
CREATE TABLE bot_rooms (
  room_id  text PRIMARY KEY,
  user_id  text NOT NULL
);

-- Provisioning API sessions, exchanged for a Matrix OpenID token.
-- Only the token's sha256 is kept.
CREATE TABLE provisioning_sessions (
  token_hash  text PRIMARY KEY,
  user_id     text NOT NULL,
  expires_at  bigint NOT NULL
);
CREATE INDEX provisioning_sessions_user ON provisioning_sessions (user_id);

-- A forwarded call is relayed by this node: relay_in faces the caller,
-- relay_out the next node; each names the other in relay_peer.
ALTER TABLE calls DROP CONSTRAINT calls_direction_check;
ALTER TABLE calls ADD CONSTRAINT calls_direction_check CHECK (direction IN ('inbound', 'outbound', 'relay_in', 'relay_out'));
ALTER TABLE calls ADD COLUMN relay_peer text;
