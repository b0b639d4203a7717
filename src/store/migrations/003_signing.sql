-- This node's Ed25519 signing keys (docs/webcall-signing.md). The seed is the
-- private key; retired keys keep expired_at and stay published for a while.
CREATE TABLE signing_keys (
  key_id      text PRIMARY KEY,
  seed        text NOT NULL,
  created_at  bigint NOT NULL,
  expired_at  bigint
);

-- The node that signed an inbound call's setup (or that we call), so pushes
-- to it are signed for it; and what the signatures proved about the caller.
ALTER TABLE calls ADD COLUMN peer_node text;
ALTER TABLE calls ADD COLUMN caller_identity jsonb;

-- Users may choose to ring verified callers only.
ALTER TABLE user_rules DROP CONSTRAINT user_rules_default_action_check;
ALTER TABLE user_rules ADD CONSTRAINT user_rules_default_action_check CHECK (default_action IN ('ring', 'refuse', 'ring_verified'));
