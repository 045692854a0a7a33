-- events becomes a table partitioned by month of "timestamp" (UTC), so retention drops whole months
-- (store.Retention) instead of deleting rows. A unique index on a partitioned table must hold the
-- partition key: the idempotent resend is (event_id, "timestamp"), which an agent's resend always
-- repeats (the event is written to its spool with both before it is first sent).

-- A foreign key to a partitioned table would have to carry the partition key and block dropping a
-- partition; the rows that pointed at events go with their partition instead (Retention deletes them
-- in the same transaction as the DROP), and the outbox claim joins events, so an orphan is never sent.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_event_pk_fkey;
ALTER TABLE dead_letters DROP CONSTRAINT IF EXISTS dead_letters_event_pk_fkey;
ALTER TABLE notify_held DROP CONSTRAINT IF EXISTS notify_held_event_pk_fkey;

ALTER TABLE events RENAME TO events_v5;
ALTER INDEX events_timestamp_idx RENAME TO events_v5_timestamp_idx;
ALTER INDEX events_pair_time_idx RENAME TO events_v5_pair_time_idx;

CREATE TABLE events (
  id            bigint      GENERATED ALWAYS AS IDENTITY,
  event_id      uuid        NOT NULL,
  "timestamp"   timestamptz NOT NULL,
  username      text        NOT NULL,
  process_name  text        NOT NULL,
  agent_id      text        NOT NULL,
  pid           bigint,
  executable    text,
  hostname      text,
  received_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_part_pkey PRIMARY KEY (id, "timestamp"),
  CONSTRAINT events_part_event_key UNIQUE (event_id, "timestamp")
) PARTITION BY RANGE ("timestamp");
CREATE INDEX events_timestamp_idx ON events ("timestamp");
CREATE INDEX events_pair_time_idx ON events (username, process_name, "timestamp");

-- Whatever has no month partition yet lands here, so an insert never fails for a missing partition;
-- events_ensure_month moves such rows into their own month.
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Makes the partition events_pYYYY_MM of the month holding m (UTC) if it does not exist, moving the
-- month's rows out of events_default. Answers whether it made one. Takes short locks only: the caller
-- sets lock_timeout and tries again later when it expires.
CREATE FUNCTION events_ensure_month(m timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  first_day timestamp := date_trunc('month', m AT TIME ZONE 'UTC');
  lo timestamptz := first_day AT TIME ZONE 'UTC';
  hi timestamptz := (first_day + interval '1 month') AT TIME ZONE 'UTC';
  part text := 'events_p' || to_char(first_day, 'YYYY_MM');
BEGIN
  IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = part AND n.nspname = current_schema()) THEN
    RETURN false;
  END IF;
  -- writers of events_default wait (reads go on) while its rows of the month move
  LOCK TABLE events_default IN EXCLUSIVE MODE;
  EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS)', part);
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK ("timestamp" >= %L AND "timestamp" < %L)',
                 part, part || '_month', lo, hi);
  EXECUTE format('WITH moved AS (DELETE FROM events_default WHERE "timestamp" >= $1 AND "timestamp" < $2 '
                 'RETURNING *) INSERT INTO %I SELECT * FROM moved', part) USING lo, hi;
  EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  -- the check made the attach skip its scan; the partition bound says the same from now on
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_month');
  RETURN true;
END $$;

-- One partition per month that has events, the current one and the next two; then the rows, with
-- their ids (the identity goes on after the largest).
SELECT events_ensure_month(m)
FROM (SELECT DISTINCT date_trunc('month', "timestamp" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS m FROM events_v5
      UNION SELECT now() + k * interval '1 month' FROM generate_series(0, 2) AS k) AS months
ORDER BY m;

INSERT INTO events (id, event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname,
                    received_at)
OVERRIDING SYSTEM VALUE
SELECT id, event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname, received_at
FROM events_v5;

SELECT setval(pg_get_serial_sequence('events', 'id'), coalesce((SELECT max(id) FROM events_v5), 1),
              (SELECT max(id) FROM events_v5) IS NOT NULL);

DROP TABLE events_v5;

-- Age bounds of the small tables (store.Retention): rows of the outbox that no sink ever claimed are
-- found by next_attempt_at, dead letters by failed_at.
CREATE INDEX dead_letters_failed_idx ON dead_letters (failed_at);
