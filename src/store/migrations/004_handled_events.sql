-- Pushed Matrix events are de-duplicated by event id, not by transaction id:
-- Synapse numbers appservice transactions from the highest one still pending
-- + 1, so after a homeserver restart the ids start again from 1 and a
-- remembered id would drop new events. Event ids are unique for good.
DROP TABLE appservice_transactions;

-- Event ids the bridge has handled (the newest are loaded at start-up and
-- the list is pruned to a bounded length).
CREATE TABLE handled_events (
  event_id    text PRIMARY KEY,
  handled_at  bigint NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint
);
CREATE INDEX handled_events_handled_at ON handled_events (handled_at);
