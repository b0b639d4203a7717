-- On-call rotas (issue 13): a Matrix room is the rota for NAME@domain.

-- Group rooms the bot was invited to and stays in, to answer `rota …` there
-- (a room may be one before it has a rota, and stays one after `rota delete`).
CREATE TABLE rota_rooms (
  room_id     text PRIMARY KEY,
  invited_by  text NOT NULL,
  joined_at   bigint NOT NULL
);

-- One row per rota; one rota per room, names unique. The parts each bot
-- command changes as a whole (members, rotation, overrides, escalation,
-- rules) are jsonb in the shapes of src/model/rota.ts. `version` makes every
-- save conditional (compare-and-set), as for users' rules.
CREATE TABLE rotas (
  name        text PRIMARY KEY,
  room_id     text NOT NULL UNIQUE,
  members     jsonb,
  rotation    jsonb NOT NULL,
  anchor      bigint NOT NULL,
  overrides   jsonb NOT NULL,
  escalation  jsonb NOT NULL,
  rules       jsonb NOT NULL,
  version     integer NOT NULL,
  updated_at  bigint NOT NULL
);
