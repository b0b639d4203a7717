-- A rota member on another node is rung by relay (issue 13): each attempt is
-- a `member_out` session, the setup this node POSTs to the member's node,
-- linked to the rota call's inbound session by peer_session. It has no
-- forwarding user (forwarded_by stays NULL), so the relay CHECK holds as is.
ALTER TABLE sessions DROP CONSTRAINT sessions_kind_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_kind_check
  CHECK (kind IN ('inbound', 'outbound', 'relay_in', 'relay_out', 'member_out'));
