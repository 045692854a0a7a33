package io.dozor.server.store;

/** All SQL the server runs, in one place. */
public final class Sql {
  /** Migrations in order; each is a classpath resource applied once, in a transaction. */
  public static final String[] MIGRATIONS = {"db/V1__init.sql", "db/V2__agents.sql", "db/V3__dead_letters_and_admin_tokens.sql"};

  /** Arbitrary constant: one server migrates at a time. */
  public static final long MIGRATION_LOCK = 0x646f7a6f72L;

  public static final String MIGRATION_LOCK_TAKE = "SELECT pg_advisory_lock($1)";
  public static final String MIGRATION_LOCK_RELEASE = "SELECT pg_advisory_unlock($1)";
  public static final String SCHEMA_VERSION_TABLE =
      "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "
          + "applied_at timestamptz NOT NULL DEFAULT now())";
  public static final String SCHEMA_VERSION_CURRENT =
      "SELECT coalesce(max(version), 0) AS version FROM schema_version";
  public static final String SCHEMA_VERSION_RECORD = "INSERT INTO schema_version (version) VALUES ($1)";

  /**
   * One round trip stores a whole batch: new events are inserted, resent ones skipped by event_id,
   * and each new event is queued for every sink in the same statement (so in the same commit).
   */
  public static final String INSERT_EVENTS = """
      WITH input AS (
        SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[],
                             $6::text[], $7::text[])
          AS t(event_id, ts, username, process_name, pid, executable, hostname)
      ), inserted AS (
        INSERT INTO events (event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname)
        SELECT event_id, ts, username, process_name, $8, pid, executable, hostname FROM input
        ON CONFLICT (event_id) DO NOTHING
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

  public static final String AGENT_HEARTBEAT = """
      INSERT INTO agents (agent_id, hostname, version, spool_depth, dropped_events, last_heartbeat)
      VALUES ($1, $2, $3, $4, $5, now())
      ON CONFLICT (agent_id) DO UPDATE SET hostname = excluded.hostname, version = excluded.version,
        spool_depth = excluded.spool_depth, dropped_events = excluded.dropped_events,
        last_seen = now(), last_heartbeat = now()""";

  public static final String PING = "SELECT 1";

  public static final String TOKEN_CREATE = "INSERT INTO agent_tokens (token_id, agent_id, kind) VALUES ($1, $2, $3)";
  public static final String TOKEN_ACTIVE =
      "SELECT revoked_at IS NULL AS active FROM agent_tokens WHERE token_id = $1 AND agent_id = $2 AND kind = $3";
  public static final String TOKEN_REVOKE_BY_ID =
      "UPDATE agent_tokens SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL";
  public static final String TOKEN_REVOKE_BY_AGENT =
      "UPDATE agent_tokens SET revoked_at = now() WHERE agent_id = $1 AND revoked_at IS NULL";
  public static final String TOKEN_LIST =
      "SELECT token_id, agent_id, kind, created_at, revoked_at FROM agent_tokens ORDER BY created_at, agent_id";

  /** Admin API: events newest first, every filter optional, keyset paging by id. */
  public static final String EVENTS_PAGE = """
      SELECT id, event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname, received_at
      FROM events
      WHERE ($1::timestamptz IS NULL OR "timestamp" >= $1) AND ($2::timestamptz IS NULL OR "timestamp" < $2)
        AND ($3::text IS NULL OR username = $3) AND ($4::text IS NULL OR process_name = $4)
        AND ($5::text IS NULL OR agent_id = $5) AND ($6::bigint IS NULL OR id < $6)
      ORDER BY id DESC
      LIMIT $7""";
  public static final String AGENTS_LIST = """
      SELECT agent_id, hostname, version, spool_depth, dropped_events, first_seen, last_seen, last_heartbeat
      FROM agents ORDER BY agent_id""";
  public static final String OUTBOX_DEPTH = "SELECT sink, count(*) AS depth FROM outbox GROUP BY sink";

  /** Reindex: events in id order after a cursor, optionally since a launch time. */
  public static final String REINDEX_COUNT =
      "SELECT count(*) AS n FROM events WHERE ($1::timestamptz IS NULL OR \"timestamp\" >= $1)";
  public static final String REINDEX_PAGE = """
      SELECT id, event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname
      FROM events
      WHERE id > $1 AND ($2::timestamptz IS NULL OR "timestamp" >= $2)
      ORDER BY id
      LIMIT $3""";

  /** Claims due work of one sink; rows stay locked (other instances skip them) until commit. */
  public static final String OUTBOX_CLAIM = """
      SELECT o.event_pk, o.attempts, e.event_id, e."timestamp", e.username, e.process_name, e.agent_id,
             e.pid, e.executable, e.hostname
      FROM outbox o JOIN events e ON e.id = o.event_pk
      WHERE o.sink = $1 AND o.next_attempt_at <= now()
      ORDER BY o.event_pk
      LIMIT $2
      FOR UPDATE OF o SKIP LOCKED""";
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

  private Sql() {}
}
