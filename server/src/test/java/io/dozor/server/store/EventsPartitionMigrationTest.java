package io.dozor.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.bus.Messages.StoreEvents;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.model.LaunchEvent;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Verifies V6 on a database at V5 holding data: every event and every row of the tables that pointed
 * at events survives with its id, each month gets its partition, and the server's statements (insert
 * with its idempotent resend, the outbox claim, the admin page) work on the partitioned table.
 */
class EventsPartitionMigrationTest {
    static final List<String> DEPENDENTS = List.of(
            "SELECT * FROM outbox ORDER BY sink, event_pk",
            "SELECT * FROM dead_letters ORDER BY sink, event_pk",
            "SELECT * FROM notify_held ORDER BY sink, event_pk",
            "SELECT * FROM notify_pairs ORDER BY chat_id, username, process_name",
            // the columns these tables had at V5 (later versions add columns of their own)
            "SELECT agent_id, hostname, version, spool_depth, dropped_events, first_seen, last_seen, last_heartbeat"
                    + " FROM agents ORDER BY agent_id",
            "SELECT * FROM agent_alerts ORDER BY agent_id",
            "SELECT token_id, agent_id, kind, created_at, revoked_at FROM agent_tokens ORDER BY token_id");

    @Test
    void v5DataMigratesIntoMonthPartitionsAndEverythingStillWorks() {
        Vertx vertx = Vertx.vertx();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            atV5(db);
            db.execute("""
          INSERT INTO events (event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname,
                              received_at)
          SELECT gen_random_uuid(), timestamptz '2026-05-31 22:00:00+00' + g * interval '17 hours',
                 'user' || (g % 5), 'app' || (g % 3) || '.exe', 'pc-' || (g % 2), g, 'C:\\x' || g, 'HOST',
                 timestamptz '2026-11-30 10:00:00+00' + g * interval '1 second'
          FROM generate_series(1, 250) AS g;
          INSERT INTO events (event_id, "timestamp", username, process_name, agent_id)
          VALUES ('00000000-0000-0000-0000-000000000001', '2003-02-10 12:00:00+03', 'old', 'old.exe', 'pc-0');
          DELETE FROM events WHERE id IN (7, 8);
          INSERT INTO agents (agent_id, hostname) VALUES ('pc-0', 'H0'), ('pc-1', 'H1');
          INSERT INTO agent_alerts (agent_id, silent_since) VALUES ('pc-1', '2026-11-01 00:00:00+00');
          INSERT INTO agent_tokens (token_id, agent_id) VALUES (gen_random_uuid(), 'pc-0');
          INSERT INTO outbox (sink, event_pk) SELECT 'elasticsearch', id FROM events WHERE id % 4 = 0;
          INSERT INTO outbox (sink, event_pk, attempts, next_attempt_at, last_error)
            SELECT 'telegram:42', id, 3, 'infinity', 'chat not found' FROM events WHERE id % 9 = 0;
          INSERT INTO dead_letters (sink, event_pk, attempts, reason) SELECT 'elasticsearch', id, 5, 'mapping'
            FROM events WHERE id % 25 = 0;
          INSERT INTO notify_held (sink, event_pk) SELECT 'telegram:42', id FROM events WHERE id % 9 = 0;
          INSERT INTO notify_pairs VALUES (42, 'user1', 'app1.exe', '2026-10-01 00:00:00+00')""");
            List<Map<String, Object>> events = db.query("SELECT * FROM events ORDER BY id");
            List<List<Map<String, Object>>> dependents =
                    DEPENDENTS.stream().map(db::query).toList();
            assertThat(events).hasSize(249);

            Pool pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
            assertThat(Migrations.migrate(vertx, pool).await()).isEqualTo(Sql.MIGRATIONS.length);

            // the columns the events had before (later migrations add columns, null for these rows)
            String before = String.join(
                    ", ",
                    events.get(0).keySet().stream().map(c -> "\"" + c + "\"").toList());
            assertThat(db.query("SELECT " + before + " FROM events ORDER BY id"))
                    .as("every event, column by column")
                    .isEqualTo(events);
            assertThat(DEPENDENTS.stream().map(db::query).toList())
                    .as("every dependent row")
                    .isEqualTo(dependents);
            assertThat(db.query("SELECT relkind::text AS kind FROM pg_class WHERE relname = 'events'")
                            .get(0))
                    .containsEntry("kind", "p");
            List<String> months = new ArrayList<>();
            db.query("""
          SELECT c.relname AS name, (SELECT count(*) FROM events e WHERE e.tableoid = c.oid) AS n
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'events'::regclass ORDER BY c.relname""").forEach(r -> months.add(r.get("name") + "=" + r.get("n")));
            // launches 17 h apart from 2026-06-01 15:00 UTC (less ids 7 and 8), by UTC month; then the current
            // month and the next two, made ahead
            assertThat(months)
                    .startsWith(
                            "events_default=0",
                            "events_p2003_02=1",
                            "events_p2026_06=40",
                            "events_p2026_07=44",
                            "events_p2026_08=43",
                            "events_p2026_09=43",
                            "events_p2026_10=44",
                            "events_p2026_11=34");
            java.time.YearMonth now = java.time.YearMonth.now(java.time.ZoneOffset.UTC);
            for (int k = 0; k <= 2; k++) {
                java.time.YearMonth m = now.plusMonths(k);
                assertThat(months)
                        .anyMatch(
                                p -> p.startsWith(String.format("events_p%04d_%02d=", m.getYear(), m.getMonthValue())));
            }
            long total = months.stream()
                    .mapToLong(m -> Long.parseLong(m.substring(m.indexOf('=') + 1)))
                    .sum();
            assertThat(total).isEqualTo(249);
            assertThat(db.count("events_default")).isZero();

            // the outbox claim still joins every queued row to its event
            var claimed = pool.withTransaction(tx -> tx.query(Sql.OUTBOX_CLAIM_PLAN)
                            .execute()
                            .compose(v -> tx.preparedQuery(Sql.OUTBOX_CLAIM).execute(Tuple.of("elasticsearch", 1000))))
                    .await();
            assertThat(claimed.size())
                    .isEqualTo((int) db.count("outbox WHERE sink = 'elasticsearch'"))
                    .isEqualTo(61);
            // the admin API's page reads the partitioned table newest id first, with received_at
            var page = pool.preparedQuery(Sql.EVENTS_PAGE)
                    .execute(Tuple.of(null, null, null, null, null, null, 3))
                    .await();
            assertThat(page.iterator().next().getLong("id")).isEqualTo(251L);
            assertThat(page.iterator().next().getOffsetDateTime("received_at")).isNotNull();

            // a resent event (same id and time) is stored once; a new one gets the next id, even years away
            var store = new PersistenceVerticle(pool, List.of("elasticsearch"));
            LaunchEvent old = new LaunchEvent(
                    UUID.fromString("00000000-0000-0000-0000-000000000001"),
                    OffsetDateTime.parse("2003-02-10T12:00:00+03:00"),
                    "old",
                    "old.exe",
                    null,
                    null,
                    null);
            LaunchEvent fresh = new LaunchEvent(
                    UUID.randomUUID(), OffsetDateTime.parse("2031-07-04T00:00:00Z"), "new", "new.exe", 1L, null, "H");
            var result =
                    store.insert(new StoreEvents("pc-0", List.of(old, fresh))).await();
            assertThat(result.accepted()).isEqualTo(1);
            assertThat(result.duplicates()).isEqualTo(1);
            Map<String, Object> added = db.query(
                            "SELECT id, tableoid::regclass::text AS part FROM events WHERE username = 'new'")
                    .get(0);
            long id = (Long) added.get("id");
            assertThat(id).as("the identity goes on after the migrated ids").isGreaterThan(251L);
            assertThat(added).containsEntry("part", "events_default");
            assertThat(db.count("outbox WHERE event_pk = " + id)).isEqualTo(1);
            // its month gets a partition and the row moves there, with its outbox row still pointing at it
            assertThat(db.query("SELECT events_ensure_month('2031-07-20 00:00:00+00') AS made")
                            .get(0))
                    .containsEntry("made", true);
            assertThat(db.query("SELECT tableoid::regclass::text AS part FROM events WHERE id = " + id)
                            .get(0))
                    .containsEntry("part", "events_p2031_07");
            assertThat(db.count("events_default")).isZero();
            assertThat(db.count("outbox o JOIN events e ON e.id = o.event_pk WHERE e.username = 'new'"))
                    .isEqualTo(1);
            assertThat(db.query("SELECT events_ensure_month('2031-07-01 00:00:00+00') AS made")
                            .get(0))
                    .containsEntry("made", false);
            pool.close().await();
        } finally {
            vertx.close().await();
        }
    }

    /** The schema as a V5 server left it. */
    static void atV5(PostgresDatabase db) {
        db.execute(Sql.SCHEMA_VERSION_TABLE);
        for (int v = 1; v <= 5; v++) {
            db.execute(resource(Sql.MIGRATIONS[v - 1]));
            db.execute("INSERT INTO schema_version (version) VALUES (" + v + ")");
        }
    }

    static String resource(String name) {
        try (var in = EventsPartitionMigrationTest.class.getClassLoader().getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
