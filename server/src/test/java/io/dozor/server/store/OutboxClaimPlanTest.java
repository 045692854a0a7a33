package io.dozor.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.config.ServerConfig;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Sql#OUTBOX_CLAIM} reads from events only the rows it claims, however many the month holds: a month of
 * 60 000 events whose last 3 000 wait in the outbox, a claim of 1 000. As a plain join the planner hashed the whole
 * month (60 000 rows read for 1 000), so every claim grew with the month.
 */
class OutboxClaimPlanTest {
    /** An index scan of a partition of events in EXPLAIN (ANALYZE, TIMING OFF): its rows per loop and loops. */
    static final Pattern EVENTS_SCAN =
            Pattern.compile("Scan using \\S+ on events_\\S+ .*actual rows=(\\d+) loops=(\\d+)");

    static Vertx vertx;
    static PostgresDatabase db;
    static Pool pool;

    @BeforeAll
    static void data() {
        vertx = Vertx.vertx();
        db = PostgresDatabase.create();
        pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
        Migrations.migrate(vertx, pool).await();
        db.execute("""
          SELECT events_ensure_month(m) FROM generate_series(timestamptz '2026-06-01 00:00:00+00',
                                                            timestamptz '2026-12-01 00:00:00+00', '1 month') AS m""");
        db.execute("""
          INSERT INTO events (event_id, "timestamp", username, process_name, agent_id)
          SELECT gen_random_uuid(), timestamptz '2026-11-01 00:00:00+00' + g * interval '1 second',
                 'user' || (g % 7), 'app.exe', 'pc-' || (g % 11)
          FROM generate_series(1, 60000) AS g""");
        db.execute("INSERT INTO outbox (sink, event_pk) SELECT 'elasticsearch', id FROM events WHERE id > 57000");
        db.execute("ANALYZE");
    }

    @AfterAll
    static void close() {
        pool.close().await();
        vertx.close().await();
        db.close();
    }

    @Test
    void aClaimReadsFromEventsOnlyTheRowsItClaims() {
        List<String> plan = explainClaim(pool, 1000);
        long read = 0;
        int scans = 0;
        for (String line : plan) {
            Matcher m = EVENTS_SCAN.matcher(line);
            if (m.find()) {
                scans++;
                read += Long.parseLong(m.group(1)) * Long.parseLong(m.group(2));
            }
        }
        assertThat(scans).as(String.join("\n", plan)).isPositive();
        assertThat(read).as(String.join("\n", plan)).isEqualTo(1000);
        assertThat(String.join("\n", plan)).contains("Nested Loop").doesNotContain("Hash Join", "Merge Join");
    }

    @Test
    void theServersConnectionsDoNotCompileTheirPlans() {
        // with JIT on, a plan estimated above jit_above_cost is compiled on every execution (the claim's took 17 to
        // 550 ms in the ingest benchmark); here every plan would be
        db.execute("ALTER DATABASE " + db.name() + " SET jit_above_cost = 0");
        Pool fresh = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 1));
        try {
            String plan = String.join("\n", explainClaim(fresh, 10));
            assertThat(fresh.query("SHOW jit")
                            .execute()
                            .await()
                            .iterator()
                            .next()
                            .getString(0))
                    .isEqualTo("off");
            assertThat(plan).doesNotContain("JIT");
        } finally {
            fresh.close().await();
            db.execute("ALTER DATABASE " + db.name() + " RESET jit_above_cost");
        }
    }

    /** The claim's plan as the worker runs it (in a transaction, after {@link Sql#OUTBOX_CLAIM_PLAN}), executed. */
    static List<String> explainClaim(Pool pool, int limit) {
        return pool.withTransaction(conn -> conn.query(Sql.OUTBOX_CLAIM_PLAN)
                        .execute()
                        .compose(v -> conn.preparedQuery("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + Sql.OUTBOX_CLAIM)
                                .execute(Tuple.of("elasticsearch", limit)))
                        .map(rows -> {
                            List<String> lines = new ArrayList<>();
                            for (Row r : rows) {
                                lines.add(r.getString(0));
                            }
                            return lines;
                        }))
                .await();
    }

    @Test
    void theClaimStillAnswersTheRowsInTheirOrder() {
        List<Long> pks = pool.withTransaction(conn -> conn.query(Sql.OUTBOX_CLAIM_PLAN)
                        .execute()
                        .compose(v -> conn.preparedQuery(Sql.OUTBOX_CLAIM).execute(Tuple.of("elasticsearch", 5)))
                        .map(rows -> {
                            List<Long> out = new ArrayList<>();
                            for (Row r : rows) {
                                out.add(r.getLong("event_pk"));
                                assertThat(r.getString("username")).startsWith("user");
                            }
                            return out;
                        }))
                .await();
        assertThat(pks).containsExactly(57001L, 57002L, 57003L, 57004L, 57005L);
    }
}
