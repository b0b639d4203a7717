-- The iCalendar feed of a rota's shifts (issue 13, item 4): one secret per
-- rota, in the feed's URL. It depends only on 006's rotas: deleting a rota
-- deletes its feed, so a rota made again under the same name starts without
-- one and the old URL stays dead.
--
-- The secret is kept as it is (not hashed), so that anyone in the rota's
-- room can be given the URL again (`rota calendar`, the provisioning API);
-- it guards only the schedule, which is in the rotas row next to it, so a
-- copy of the database gives nothing away that it does not already hold.
-- It is compared in constant time (src/rota/CalendarFeeds.ts).
CREATE TABLE rota_calendars (
  name        text PRIMARY KEY REFERENCES rotas (name) ON DELETE CASCADE,
  secret      text NOT NULL,
  created_at  bigint NOT NULL
);
