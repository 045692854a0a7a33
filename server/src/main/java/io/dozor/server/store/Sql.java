package io.dozor.server.store;

/** All SQL the server runs, in one place, but for the notifications' own ({@code notify.NotifyStore}). */
public final class Sql {
    /** Migrations in order; each is a classpath resource applied once, in a transaction. */
    public static final String[] MIGRATIONS = {
        "db/V1__init.sql",
        "db/V2__agents.sql",
        "db/V3__dead_letters_and_admin_tokens.sql",
        "db/V4__notifications.sql",
        "db/V5__outbox_autovacuum.sql",
        "db/V6__events_partitioned.sql",
        "db/V7__enrollment_and_credentials.sql",
        "db/V8__agent_spool_health.sql",
        "db/V9__launch_context.sql",
        "db/V10__events_filter_indexes.sql",
        "db/V11__enrollment_keys.sql",
        "db/V12__events_timestamp_id_index.sql",
        "db/V13__token_revoked_notify.sql"
    };

    /** Arbitrary constant: one server migrates at a time. */
    public static final long MIGRATION_LOCK = 0x646f7a6f72L;

    public static final String MIGRATION_LOCK_TAKE = "SELECT pg_advisory_lock($1)";
    public static final String MIGRATION_LOCK_RELEASE = "SELECT pg_advisory_unlock($1)";
    /** Checked first: {@code CREATE TABLE IF NOT EXISTS} would send a NOTICE, logged as a warning, at every start. */
    public static final String SCHEMA_VERSION_TABLE = "DO $$ BEGIN IF to_regclass('schema_version') IS NULL THEN "
            + "CREATE TABLE schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now()); "
            + "END IF; END $$";

    public static final String SCHEMA_VERSION_CURRENT =
            "SELECT coalesce(max(version), 0) AS version FROM schema_version";
    public static final String SCHEMA_VERSION_RECORD = "INSERT INTO schema_version (version) VALUES ($1)";

    /**
     * One round trip stores a whole batch: new events are inserted, resent ones skipped by
     * (event_id, "timestamp") (a resend repeats both), and each new event is queued for every sink in the same statement (so in the same commit).
     */
    public static final String INSERT_EVENTS = """
      WITH input AS (
        SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[],
                             $6::text[], $7::text[], $10::bigint[], $11::text[], $12::text[], $13::text[],
                             $14::text[], $15::text[])
          AS t(event_id, ts, username, process_name, pid, executable, hostname, parent_pid, parent_name,
               user_domain, os_type, os_family, agent_version)
      ), inserted AS (
        INSERT INTO events (event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname,
                            parent_pid, parent_name, user_domain, os_type, os_family, agent_version)
        SELECT event_id, ts, username, process_name, $8, pid, executable, hostname,
               parent_pid, parent_name, user_domain, os_type, os_family, agent_version FROM input
        ON CONFLICT (event_id, "timestamp") DO NOTHING
        RETURNING id
      ), queued AS (
        INSERT INTO outbox (sink, event_pk)
        SELECT sink, inserted.id FROM inserted CROSS JOIN unnest($9::text[]) AS sink
        RETURNING 1
      ), seen AS (
        INSERT INTO agents (agent_id) VALUES ($8)
        ON CONFLICT (agent_id) DO UPDATE SET last_seen = now()
        RETURNING 1
      )
      SELECT count(*) AS accepted FROM inserted""";

    /** The agent's last heartbeat in agents, and the heartbeat queued for Elasticsearch, in one statement. */
    public static final String AGENT_HEARTBEAT = """
      WITH fed AS (
        INSERT INTO heartbeats (agent_id, hostname, version, spool_depth, dropped_events, unpersisted_events,
                                spool_error)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
      )
      INSERT INTO agents (agent_id, hostname, version, spool_depth, dropped_events, unpersisted_events, spool_error,
                          last_heartbeat)
      VALUES ($1, $2, $3, $4, $5, $6, $7, now())
      ON CONFLICT (agent_id) DO UPDATE SET hostname = excluded.hostname, version = excluded.version,
        spool_depth = excluded.spool_depth, dropped_events = excluded.dropped_events,
        unpersisted_events = excluded.unpersisted_events, spool_error = excluded.spool_error,
        last_seen = now(), last_heartbeat = now()""";

    // heartbeats for Elasticsearch (index.HeartbeatIndexer); %s is the columns HeartbeatDocument reads

    /** Claims due heartbeats; the rows stay locked (other servers skip them) until commit. */
    public static final String HEARTBEATS_CLAIM = """
      SELECT id, agent_id, received_at, attempts, %s FROM heartbeats
      WHERE next_attempt_at <= now()
      ORDER BY next_attempt_at, id
      LIMIT $1
      FOR UPDATE SKIP LOCKED""";

    public static final String HEARTBEATS_DONE = "DELETE FROM heartbeats WHERE id = ANY($1::bigint[])";
    /** Per-row delays (milliseconds; null = never again, the row waits with its error) and errors. */
    public static final String HEARTBEATS_RETRY = """
      UPDATE heartbeats h SET attempts = h.attempts + 1,
                              next_attempt_at = CASE WHEN r.delay_ms IS NULL THEN 'infinity'
                                                     ELSE now() + r.delay_ms * interval '1 millisecond' END,
                              last_error = r.error
      FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS r(id, delay_ms, error)
      WHERE h.id = r.id""";
    /** Heartbeats received before the retention cutoff, indexed or not. */
    public static final String HEARTBEATS_EXPIRE = """
      WITH gone AS (DELETE FROM heartbeats WHERE received_at < now() - $1 * interval '1 day' RETURNING 1)
      SELECT count(*) AS n FROM gone""";

    public static final String PING = "SELECT 1";

    public static final String TOKEN_CREATE =
            "INSERT INTO agent_tokens (token_id, agent_id, kind, expires_at) VALUES ($1, $2, $3, now() + $4 * interval '1 second')";
    /**
     * One indexed lookup; its positive answers are cached ({@code auth.TokenCache}) until the token's own
     * {@code expires_at}, given as the milliseconds left by the database's clock (the server's may differ), or
     * {@code auth.token_cache_ttl}, whichever comes first, unless {@link #TOKEN_REVOKED_CHANNEL} says otherwise.
     */
    public static final String TOKEN_ACTIVE = """
      SELECT revoked_at IS NULL AND expires_at > now() AS active,
        floor(extract(epoch FROM expires_at - now()) * 1000)::bigint AS remaining_ms
      FROM agent_tokens WHERE token_id = $1 AND agent_id = $2 AND kind = $3""";
    /**
     * The channel V13's triggers notify at the commit of a change that ends a token's registration (payload: the
     * token id; {@code *}: all of them, after a TRUNCATE).
     */
    public static final String TOKEN_REVOKED_CHANNEL = "dozor_token_revoked";

    public static final String TOKEN_REVOKE_BY_ID =
            "UPDATE agent_tokens SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL";
    /** Every token of one subject of one kind: an agent and an admin may share a name, never a revocation. */
    public static final String TOKEN_REVOKE_BY_SUBJECT =
            "UPDATE agent_tokens SET revoked_at = now() WHERE agent_id = $1 AND kind = $2 AND revoked_at IS NULL";

    public static final String TOKEN_LIST = """
      SELECT token_id, agent_id, kind, created_at, expires_at, revoked_at, refresh_hash IS NOT NULL AS enrolled
      FROM agent_tokens ORDER BY created_at, agent_id""";

    // enrollment (auth.CredentialsVerticle, EnrollmentAdmin)
    public static final String ENROLLMENT_CREATE = """
      INSERT INTO enrollment_tokens (name, token_id, max_uses, expires_at)
      VALUES ($1, $2, $3, now() + $4 * interval '1 second') ON CONFLICT (name) DO NOTHING""";
    public static final String ENROLLMENT_LIST = """
      SELECT name, token_id, max_uses, uses, created_at, expires_at, revoked_at FROM enrollment_tokens
      ORDER BY created_at, name""";
    public static final String ENROLLMENT_REVOKE =
            "UPDATE enrollment_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL";
    /**
     * The last statement of an enrolment: spends one use and opens the session of the agent just claimed. The row
     * lock the {@code UPDATE} takes (so racing agents take distinct uses: each waits, then re-checks {@code uses <
     * max_uses}) is held from here to the commit only, never while the agent id is claimed. No row when the token
     * is revoked, expired or used up ({@link #ENROLLMENT_WHY_NOT}); the transaction is then rolled back.
     */
    public static final String ENROLLMENT_SPEND = """
      WITH used AS (
        UPDATE enrollment_tokens SET uses = uses + 1
        WHERE token_id = $1 AND name = $2 AND revoked_at IS NULL AND expires_at > now() AND uses < max_uses
        RETURNING name
      )
      INSERT INTO agent_tokens (token_id, agent_id, kind, expires_at, refresh_hash)
      SELECT $3, $4, 'agent', now() + $5 * interval '1 second', $6 FROM used
      RETURNING agent_id""";
    /** Why {@link #ENROLLMENT_SPEND} spent nothing. */
    public static final String ENROLLMENT_WHY_NOT = """
      SELECT revoked_at IS NOT NULL AS revoked, expires_at <= now() AS expired, uses >= max_uses AS used_up
      FROM enrollment_tokens WHERE token_id = $1 AND name = $2""";
    /**
     * Attempts with the same enrollment key run one after the other: the retry of an attempt still running (its
     * answer timed out) waits for its commit and then finds its agent. $1: the first 8 bytes of the key's SHA-256.
     */
    public static final String ENROLLMENT_KEY_LOCK = "SELECT pg_advisory_xact_lock($1)";
    /**
     * A retried enrolment ($3: the SHA-256 of its enrollment key): the agent that an earlier attempt with this
     * enrollment token and key created, if it never made use of its credential (no request since its enrolment,
     * no renewal) and its session is not revoked, gets a new session in place of the one whose answer was lost
     * (revoked here). The token must still be valid but spends no use. No row: not a retry, enrol anew.
     */
    public static final String ENROLLMENT_REPLAY = """
      WITH agent AS (
        SELECT a.agent_id FROM agents a
        WHERE a.enrolled_via = $2 AND a.enrollment_key = $3 AND a.last_seen <= a.enrolled_at
          AND EXISTS (SELECT 1 FROM enrollment_tokens e
                      WHERE e.token_id = $1 AND e.name = $2 AND e.revoked_at IS NULL AND e.expires_at > now())
          AND NOT EXISTS (SELECT 1 FROM agent_tokens t
                          WHERE t.agent_id = a.agent_id AND t.kind = 'agent' AND t.refreshed_at IS NOT NULL)
        ORDER BY a.enrolled_at DESC LIMIT 1
      ), replaced AS (
        UPDATE agent_tokens t SET revoked_at = now() FROM agent
        WHERE t.agent_id = agent.agent_id AND t.kind = 'agent' AND t.refresh_hash IS NOT NULL
          AND t.revoked_at IS NULL
        RETURNING t.agent_id
      ), session AS (
        INSERT INTO agent_tokens (token_id, agent_id, kind, expires_at, refresh_hash)
        SELECT $4, agent_id, 'agent', now() + $5 * interval '1 second', $6 FROM replaced LIMIT 1
      )
      SELECT agent_id FROM replaced LIMIT 1""";
    /**
     * Claims an agent id for a new enrolment: free when no agent has it and no token was ever issued for it (a
     * forgotten agent's id stays its own while its tokens exist); a concurrent claim of the same id waits for the
     * first and then finds the conflict. $5: the SHA-256 of the enrollment key, or null.
     */
    public static final String ENROLLMENT_CLAIM_ID = """
      INSERT INTO agents (agent_id, hostname, os, enrolled_via, enrolled_at, enrollment_key)
      SELECT $1, $2, $3, $4, now(), $5
      WHERE NOT EXISTS (SELECT 1 FROM agent_tokens WHERE agent_id = $1 AND kind = 'agent')
      ON CONFLICT (agent_id) DO NOTHING RETURNING agent_id""";

    /**
     * Renews a session with its current refresh credential or the one before it (the agent may have missed the
     * answer that replaced it): the new credential becomes current and the refresh lifetime starts again.
     */
    public static final String SESSION_REFRESH = """
      UPDATE agent_tokens SET
        refresh_prev = CASE WHEN refresh_hash = $1 THEN refresh_hash ELSE refresh_prev END,
        refresh_hash = $2, refreshed_at = now(), expires_at = now() + $3 * interval '1 second'
      WHERE kind = 'agent' AND (refresh_hash = $1 OR refresh_prev = $1) AND revoked_at IS NULL AND expires_at > now()
      RETURNING token_id, agent_id""";

    /** Admin API: events newest first, every filter optional, keyset paging by id. */
    public static final String EVENTS_PAGE = """
      SELECT id, event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname, received_at
      FROM events
      WHERE ($1::timestamptz IS NULL OR "timestamp" >= $1) AND ($2::timestamptz IS NULL OR "timestamp" < $2)
        AND ($3::text IS NULL OR username = $3) AND ($4::text IS NULL OR process_name = $4)
        AND ($5::text IS NULL OR agent_id = $5) AND ($6::bigint IS NULL OR id < $6)
      ORDER BY id DESC
      LIMIT $7""";
    /**
     * {@link #EVENTS_PAGE} for a time range with both ends ($1 and $2 not null), same parameters, same rows in
     * the same order (ids are unique: an identity). The range's ids come from an index-only scan of
     * {@code events_timestamp_id_idx} ("timestamp", id) and the newest $7 of them are kept (a top-N sort of ids)
     * before any row is read; {@code OFFSET 0} keeps that subquery whole, so the planner cannot turn it back into
     * EVENTS_PAGE's walk of the primary key from the partition's newest row down to the range (it expects the
     * range's rows to be spread evenly over the ids; they are at one end). Its cost grows with the range, the
     * walk's with the distance from the range's end to its partition's newest row: {@code
     * QueryVerticle.pageStatement} picks the shorter.
     */
    public static final String EVENTS_PAGE_RANGE = """
      SELECT e.id, e.event_id, e."timestamp", e.username, e.process_name, e.agent_id, e.pid, e.executable,
             e.hostname, e.received_at
      FROM (
        SELECT id FROM (
          SELECT id FROM events
          WHERE "timestamp" >= $1::timestamptz AND "timestamp" < $2::timestamptz
            AND ($3::text IS NULL OR username = $3) AND ($4::text IS NULL OR process_name = $4)
            AND ($5::text IS NULL OR agent_id = $5) AND ($6::bigint IS NULL OR id < $6)
          OFFSET 0
        ) in_range
        ORDER BY id DESC
        LIMIT $7
      ) page
      JOIN events e ON e.id = page.id
      WHERE e."timestamp" >= $1 AND e."timestamp" < $2
      ORDER BY e.id DESC""";
    /** The newest row id (0 for none): where {@code events --follow} starts when nothing matched yet. */
    public static final String EVENTS_LAST_ID = "SELECT coalesce(max(id), 0) AS id FROM events";
    /** The filters of {@link #EVENTS_PAGE}, for the events stored after row {@code $6}, oldest first. */
    public static final String EVENTS_AFTER = """
      SELECT id, event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname, received_at
      FROM events
      WHERE ($1::timestamptz IS NULL OR "timestamp" >= $1) AND ($2::timestamptz IS NULL OR "timestamp" < $2)
        AND ($3::text IS NULL OR username = $3) AND ($4::text IS NULL OR process_name = $4)
        AND ($5::text IS NULL OR agent_id = $5) AND id > $6
      ORDER BY id
      LIMIT $7""";

    public static final String AGENTS_LIST = """
      SELECT agent_id, hostname, version, spool_depth, dropped_events, unpersisted_events, spool_error, first_seen,
             last_seen, last_heartbeat, os, enrolled_via, enrolled_at
      FROM agents ORDER BY agent_id""";
    public static final String OUTBOX_DEPTH = "SELECT sink, count(*) AS depth FROM outbox GROUP BY sink";
    /** The fleet for the gauges: known agents, those seen within $1 ms, their largest spool, all drops reported. */
    public static final String AGENTS_GAUGES = """
      SELECT count(*) AS known,
             count(*) FILTER (WHERE last_seen >= now() - $1 * interval '1 millisecond') AS active,
             coalesce(max(spool_depth) FILTER (WHERE last_seen >= now() - $1 * interval '1 millisecond'), 0)
               AS spool_depth_max,
             coalesce(sum(dropped_events), 0)::bigint AS dropped_events
      FROM agents""";

    /** Reindex: events in id order after a cursor, optionally since a launch time. */
    public static final String REINDEX_COUNT =
            "SELECT count(*) AS n FROM events WHERE ($1::timestamptz IS NULL OR \"timestamp\" >= $1)";

    public static final String REINDEX_PAGE = """
      SELECT id, event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname,
             parent_pid, parent_name, user_domain, os_type, os_family, agent_version, received_at
      FROM events
      WHERE id > $1 AND ($2::timestamptz IS NULL OR "timestamp" >= $2)
      ORDER BY id
      LIMIT $3""";

    /** Claims due work of one sink; rows stay locked (other instances skip them) until commit. */
    /**
     * Claims the sink's oldest due rows in the order of {@code outbox_due_idx} (sink, next_attempt_at,
     * event_pk), then looks up only those in events. Statistics of a queue table lag behind its bursts: with
     * a backlog the planner, expecting a few rows, would join the whole backlog and sort it (285 ms for
     * 170 000 rows against 4 ms); {@link #OUTBOX_CLAIM_PLAN} keeps it on the ordered index scan. The lookup is
     * a LATERAL subquery that cannot be flattened ({@code OFFSET 0}), so each claimed row is one probe of each
     * partition's primary key: as a plain join the planner hashed or merged the whole of events instead (every
     * row of the month on each claim: 136 ms per 1 000 claimed at 64 000 rows, growing with the month).
     */
    public static final String OUTBOX_CLAIM = """
      WITH claimed AS (
        SELECT event_pk, attempts FROM outbox
        WHERE sink = $1 AND next_attempt_at <= now()
        ORDER BY next_attempt_at, event_pk
        LIMIT $2
        FOR UPDATE SKIP LOCKED
      )
      SELECT c.event_pk, c.attempts, e.event_id, e."timestamp", e.username, e.process_name, e.agent_id,
             e.pid, e.executable, e.hostname, e.parent_pid, e.parent_name, e.user_domain, e.os_type,
             e.os_family, e.agent_version, e.received_at
      FROM claimed c CROSS JOIN LATERAL (SELECT * FROM events WHERE events.id = c.event_pk OFFSET 0) e
      ORDER BY c.event_pk""";
    /** Run in the claiming transaction just before {@link #OUTBOX_CLAIM}. */
    public static final String OUTBOX_CLAIM_PLAN = "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off";

    public static final String OUTBOX_DONE = "DELETE FROM outbox WHERE sink = $1 AND event_pk = ANY($2::bigint[])";
    /** Per-row retry delays (milliseconds) and errors, one statement for the whole batch. */
    public static final String OUTBOX_RETRY = """
      UPDATE outbox o SET attempts = o.attempts + 1,
                          next_attempt_at = now() + r.delay_ms * interval '1 millisecond',
                          last_error = r.error
      FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS r(event_pk, delay_ms, error)
      WHERE o.sink = $1 AND o.event_pk = r.event_pk""";
    /** The destination is back: rows waiting out a backoff become due now (dead letters are not touched). */
    public static final String OUTBOX_RETRY_NOW = """
      UPDATE outbox SET next_attempt_at = now()
      WHERE sink = $1 AND next_attempt_at > now() AND next_attempt_at < 'infinity'""";
    /** Undeliverable as they are: moved to dead_letters with the reason; the outbox keeps flowing. */
    public static final String OUTBOX_PARK = """
      WITH moved AS (
        DELETE FROM outbox o USING unnest($2::bigint[], $3::text[]) AS r(event_pk, error)
        WHERE o.sink = $1 AND o.event_pk = r.event_pk
        RETURNING o.sink, o.event_pk, o.attempts, r.error
      )
      INSERT INTO dead_letters (sink, event_pk, attempts, reason)
      SELECT sink, event_pk, attempts + 1, error FROM moved
      ON CONFLICT (sink, event_pk) DO UPDATE SET reason = excluded.reason, attempts = excluded.attempts,
        failed_at = now()""";
    /**
     * Each delivery attempt of a sink that writes to the claiming transaction ({@code Sink.writesToTransaction})
     * runs in a savepoint of it, so an attempt that fails (and what the sink wrote in it) is undone without
     * losing the claim.
     */
    public static final String OUTBOX_ATTEMPT_BEGIN = "SAVEPOINT outbox_delivery";

    public static final String OUTBOX_ATTEMPT_KEEP = "RELEASE SAVEPOINT outbox_delivery";
    public static final String OUTBOX_ATTEMPT_UNDO =
            "ROLLBACK TO SAVEPOINT outbox_delivery; RELEASE SAVEPOINT outbox_delivery";

    // retention (store.Retention): whole month partitions of events, the ES indices of the same months,
    // and age bounds on the small tables

    /** Another arbitrary constant: one retention run at a time across all servers. */
    public static final long RETENTION_LOCK = 0x646f7a6f73L;

    public static final String RETENTION_LOCK_TRY = "SELECT pg_try_advisory_lock($1) AS locked";
    public static final String RETENTION_LOCK_RELEASE = "SELECT pg_advisory_unlock($1)";
    /**
     * DDL on events waits at most this long for its lock, so ingest never queues behind it for longer;
     * below the default deadlock_timeout (1 s), so a lock cycle aborts the retention, never an ingest.
     */
    public static final String RETENTION_LOCK_TIMEOUT = "SET LOCAL lock_timeout = '500ms'";
    /** The month partitions of events (events_pYYYY_MM); the default partition is events_default. */
    public static final String EVENTS_PARTITIONS = """
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'events'::regclass ORDER BY c.relname""";
    /** Months (UTC) that have rows in the default partition: each gets its own partition. */
    public static final String EVENTS_DEFAULT_MONTHS = """
      SELECT DISTINCT to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM') AS month FROM events_default
      ORDER BY month""";
    /** Makes the month's partition (moving its rows out of the default one); see V6. */
    public static final String EVENTS_ENSURE_MONTH = "SELECT events_ensure_month($1) AS created";

    public static final String EVENTS_LOCK = "LOCK TABLE events IN ACCESS EXCLUSIVE MODE";
    /** Run in a transaction; %s is a checked partition name (events_pYYYY_MM). */
    public static final String PARTITION_COUNT = "SELECT count(*) AS n FROM %s";

    public static final String PARTITION_DROP = "DROP TABLE %s";
    public static final String PARTITION_OUTBOX_DELETE =
            "WITH gone AS (DELETE FROM outbox WHERE event_pk IN (SELECT id FROM %s) RETURNING 1) SELECT count(*) AS n FROM gone";
    public static final String PARTITION_DEAD_LETTERS_DELETE =
            "WITH gone AS (DELETE FROM dead_letters WHERE event_pk IN (SELECT id FROM %s) RETURNING 1) SELECT count(*) AS n FROM gone";
    public static final String PARTITION_NOTIFY_HELD_DELETE =
            "WITH gone AS (DELETE FROM notify_held WHERE event_pk IN (SELECT id FROM %s) RETURNING 1) SELECT count(*) AS n FROM gone";
    /**
     * Dry run: what dropping the months in [$1, $2) would take with it. The counts of the small tables
     * below leave out rows of events before $3 (the months that go), which the drop already counts.
     */
    public static final String DRY_MONTH_COUNTS = """
      WITH month AS (SELECT id FROM events WHERE "timestamp" >= $1 AND "timestamp" < $2)
      SELECT (SELECT count(*) FROM month) AS events,
             (SELECT count(*) FROM outbox WHERE event_pk IN (SELECT id FROM month)) AS outbox,
             (SELECT count(*) FROM dead_letters WHERE event_pk IN (SELECT id FROM month)) AS dead_letters,
             (SELECT count(*) FROM notify_held WHERE event_pk IN (SELECT id FROM month)) AS notify_held""";

    private static final String NOT_GOING =
            " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = t.event_pk AND e.\"timestamp\" < $2)";
    /** Outbox rows no sink has claimed since before the cutoff (a sink no longer configured). */
    public static final String RETENTION_OUTBOX_STALE_COUNT =
            "SELECT count(*) AS n FROM outbox t WHERE next_attempt_at < $1" + NOT_GOING;

    public static final String RETENTION_OUTBOX_STALE = """
      WITH gone AS (DELETE FROM outbox WHERE next_attempt_at < $1 RETURNING 1) SELECT count(*) AS n FROM gone""";
    public static final String RETENTION_DEAD_LETTERS_COUNT =
            "SELECT count(*) AS n FROM dead_letters t WHERE failed_at < $1" + NOT_GOING;
    public static final String RETENTION_DEAD_LETTERS = """
      WITH gone AS (DELETE FROM dead_letters WHERE failed_at < $1 RETURNING 1) SELECT count(*) AS n FROM gone""";
    /** Held rows whose outbox row is gone (released in the same transaction normally: leftovers only). */
    public static final String RETENTION_NOTIFY_HELD_COUNT = """
      SELECT count(*) AS n FROM notify_held t
      WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.sink = t.sink AND o.event_pk = t.event_pk)
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = t.event_pk AND e."timestamp" < $1)""";

    public static final String RETENTION_NOTIFY_HELD = """
      WITH gone AS (
        DELETE FROM notify_held h
        WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.sink = h.sink AND o.event_pk = h.event_pk)
        RETURNING 1)
      SELECT count(*) AS n FROM gone""";
    /** Cooldown starts that no launch inside the retention window can fall within any more. */
    public static final String RETENTION_NOTIFY_PAIRS_COUNT =
            "SELECT count(*) AS n FROM notify_pairs WHERE last_notified < $1";

    public static final String RETENTION_NOTIFY_PAIRS = """
      WITH gone AS (DELETE FROM notify_pairs WHERE last_notified < $1 RETURNING 1) SELECT count(*) AS n FROM gone""";
    /** Agents not heard from since before the cutoff are forgotten, with their silence alert. */
    public static final String RETENTION_AGENTS_COUNT = """
      SELECT count(*) AS agents, (SELECT count(*) FROM agent_alerts al JOIN agents a USING (agent_id)
                                  WHERE a.last_seen < $1) AS alerts
      FROM agents WHERE last_seen < $1""";

    public static final String RETENTION_AGENTS = """
      WITH gone AS (DELETE FROM agents WHERE last_seen < $1 RETURNING agent_id)
      SELECT (SELECT count(*) FROM gone) AS agents,
             (SELECT count(*) FROM agent_alerts WHERE agent_id IN (SELECT agent_id FROM gone)) AS alerts""";

    private Sql() {}
}
