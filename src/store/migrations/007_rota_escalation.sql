-- A rota call's escalation survives a restart (issue 13): each leg keeps its
-- ringing step (legs of one step ring at once) and, in sequence, when that
-- step ends, so the bridge goes on with the step's time left; the session
-- keeps which rota it is for, so the rota room's notices go on too.
ALTER TABLE legs ADD COLUMN step integer;
UPDATE legs SET step = position;
ALTER TABLE legs ALTER COLUMN step SET NOT NULL;
ALTER TABLE legs ADD COLUMN step_ends_at bigint;
ALTER TABLE sessions ADD COLUMN rota_call jsonb;

-- What each rota's room was last told of its schedule: the member whose
-- stretch on call was announced (memberKey), from when, and the shift
-- (member and start) last reminded an hour ahead. Saved only after the
-- notice was sent, each save conditional on the state it replaces; the
-- notices' transaction ids are derived from the same keys, so a resend
-- after a crash is one message.
CREATE TABLE rota_announcements (
  name            text PRIMARY KEY REFERENCES rotas (name) ON DELETE CASCADE,
  member          text,
  shift_from      bigint,
  reminded        text,
  version         integer NOT NULL
);
