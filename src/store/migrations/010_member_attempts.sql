-- A rota call's plan for its members on other nodes is kept with the session
-- (rota_call, jsonb: no column needed); after a restart it is rebuilt from
-- that and the call's member_out attempts, found by their parent session.
-- Sessions are kept once ended, so the lookup needs an index of its own.
CREATE INDEX sessions_member_attempts ON sessions (peer_session, created_at) WHERE kind = 'member_out';
