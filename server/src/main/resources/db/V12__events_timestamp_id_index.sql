-- The admin API's "last 100 in a time range" (Sql.EVENTS_PAGE_RANGE) reads the range's ids from this index
-- alone (an index-only scan), keeps the newest on id, and only then fetches those rows: its cost grows with
-- the range, not with the month partition it falls in. EVENTS_PAGE, ordered by id, walks the partition's
-- primary key (id, "timestamp") backwards from the month's newest row down to the range instead: up to a
-- month of index entries for one day. The index replaces ("timestamp") alone, which it serves as well (same
-- leading column: the retention dry run, reindex --since, the bot's launches since a time), so inserts keep
-- the same number of indexes. On a partitioned table the index is made on every partition in this
-- migration's transaction: writers wait while it builds (3.4 s for 10.2 M rows on a quiet 2-core machine,
-- BENCHMARKS.md; the time grows with the table), and the drop takes a brief exclusive lock on events (reads
-- wait too) at the end.
CREATE INDEX events_timestamp_id_idx ON events ("timestamp", id);
DROP INDEX events_timestamp_idx;
