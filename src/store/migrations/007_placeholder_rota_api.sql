-- PLACEHOLDER, to be dropped when merging: 007 belongs to the escalation
-- durability work (branch rota-durable). Migrations must be numbered without
-- gaps, so this branch (rota-api, migration 008) carries an empty 007 to run
-- on its own. It creates nothing; 008 does not depend on it.
SELECT 1;
