-- The admin API (and `dozor-server events`) pages events newest first by id, filtered by user, process or
-- agent (Sql.EVENTS_PAGE, EVENTS_AFTER). Without an index led by the filter, "the last 100 of one agent"
-- walked the primary key backwards through every partition until it had 100 rows of that agent: all the
-- table for an agent seen rarely or not at all (seconds at 10 M rows). One index per filter, ordered by
-- id as the pages are, stops each partition's scan after its newest matching rows. On a partitioned table
-- each is made on every partition in this migration's transaction (writers wait while it builds).
CREATE INDEX events_agent_id_idx ON events (agent_id, id);
CREATE INDEX events_username_id_idx ON events (username, id);
CREATE INDEX events_process_id_idx ON events (process_name, id);
