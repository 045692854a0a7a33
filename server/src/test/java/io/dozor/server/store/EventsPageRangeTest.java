package io.dozor.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.config.ServerConfig;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Sql#EVENTS_PAGE_RANGE} answers what {@link Sql#EVENTS_PAGE} answers, row for row, with every filter and
 * the cursor, also for rows stored late (ids out of time order); its plan reads the range from
 * {@code events_timestamp_id_idx} alone; and {@link QueryVerticle#pageStatement} picks it only where the walk of
 * EVENTS_PAGE would be longer.
 */
class EventsPageRangeTest {
    static final OffsetDateTime FEB = OffsetDateTime.parse("2026-02-01T00:00:00Z");

    static Vertx vertx;
    static PostgresDatabase db;

    @BeforeAll
    static void data() {
        vertx = Vertx.vertx();
        db = PostgresDatabase.create();
        Pool pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
        try {
            Migrations.migrate(vertx, pool).await();
        } finally {
            pool.close().await();
        }
        db.execute("""
          SELECT events_ensure_month(m) FROM generate_series(timestamptz '2026-01-01 00:00:00+00',
                                                            timestamptz '2026-04-01 00:00:00+00', '1 month') AS m""");
        // February and March in time order (ids grow with time), then late arrivals anywhere in them
        db.execute("""
          INSERT INTO events (event_id, "timestamp", username, process_name, agent_id, pid, executable, hostname)
          SELECT gen_random_uuid(), timestamptz '2026-02-01 00:00:00+00' + g * interval '2 minutes',
                 'user' || (g % 7), 'app' || (g % 5) || '.exe', 'pc-' || (g % 11), g, 'C:\\app.exe', 'HOST'
          FROM generate_series(0, 42479) AS g""");
        db.execute("""
          INSERT INTO events (event_id, "timestamp", username, process_name, agent_id)
          SELECT gen_random_uuid(), timestamptz '2026-02-01 00:00:00+00' + ((g * 7919) % 59) * interval '1 day'
                                     + (g % 24) * interval '1 hour' + interval '17 seconds',
                 'user' || (g % 3), 'late.exe', 'pc-' || (g % 13)
          FROM generate_series(1, 400) AS g""");
        db.execute("VACUUM ANALYZE events");
    }

    @AfterAll
    static void close() {
        db.close();
        vertx.close().await();
    }

    static List<Map<String, Object>> page(String sql, Object[] args) {
        return db.query(sql, args);
    }

    @Test
    void theRangeStatementAnswersWhatThePageAnswers() {
        Random r = new Random(11);
        long[] widthsMinutes = {1, 60, 24 * 60, 3 * 24 * 60, 20 * 24 * 60, 45 * 24 * 60};
        int nonEmpty = 0;
        int full = 0;
        for (int i = 0; i < 150; i++) {
            OffsetDateTime from = FEB.plusMinutes(r.nextInt(62 * 24 * 60) - 2 * 24 * 60);
            OffsetDateTime to = from.plusMinutes(widthsMinutes[r.nextInt(widthsMinutes.length)]);
            String user = r.nextInt(3) == 0 ? "user" + r.nextInt(8) : null;
            String process =
                    r.nextInt(3) == 0 ? (r.nextInt(4) == 0 ? "late.exe" : "app" + r.nextInt(5) + ".exe") : null;
            String agent = r.nextInt(4) == 0 ? "pc-" + r.nextInt(14) : null;
            int limit = new int[] {1, 7, 101, 1001}[r.nextInt(4)];
            Object[] args = {from, to, user, process, agent, null, limit};
            List<Map<String, Object>> expected = page(Sql.EVENTS_PAGE, args);
            assertThat(page(Sql.EVENTS_PAGE_RANGE, args))
                    .as("page %d: %s", i, java.util.Arrays.toString(args))
                    .isEqualTo(expected);
            if (!expected.isEmpty()) {
                nonEmpty++;
                full += expected.size() == limit ? 1 : 0;
                // the next page, after a cursor inside the range
                Object[] next = args.clone();
                next[5] = expected.get(expected.size() / 2).get("id");
                assertThat(page(Sql.EVENTS_PAGE_RANGE, next))
                        .as("after a cursor, page %d", i)
                        .isEqualTo(page(Sql.EVENTS_PAGE, next));
            }
        }
        assertThat(nonEmpty).as("pages with rows").isGreaterThan(100);
        assertThat(full).as("full pages").isGreaterThan(50);
    }

    @Test
    void lateRowsComeInIdOrder() {
        OffsetDateTime from = OffsetDateTime.parse("2026-02-10T00:00:00Z");
        Object[] args = {from, from.plusDays(2), null, null, null, null, 101};
        List<Map<String, Object>> rows = page(Sql.EVENTS_PAGE_RANGE, args);
        assertThat(rows).hasSize(101);
        assertThat(rows.get(0)).as("stored last, so newest by id").containsEntry("process_name", "late.exe");
        List<Long> ids = new ArrayList<>();
        rows.forEach(row -> ids.add((Long) row.get("id")));
        assertThat(ids).isSortedAccordingTo((a, b) -> Long.compare(b, a)).doesNotHaveDuplicates();
        rows.forEach(row -> assertThat((OffsetDateTime) row.get("timestamp")).isBetween(from, from.plusDays(2)));
    }

    @Test
    void theRangeIsReadFromTheTimestampIndexAloneNotByWalkingThePrimaryKey() {
        Object[] args = {FEB.plusDays(3), FEB.plusDays(4), null, null, null, null, 101};
        String range = plan(Sql.EVENTS_PAGE_RANGE, args);
        assertThat(range)
                .contains("Index Only Scan using events_p2026_02_timestamp_id_idx")
                .contains("top-N heapsort")
                .doesNotContain("Backward");
        // why: EVENTS_PAGE walks February's primary key from its newest row down to the 4th
        assertThat(plan(Sql.EVENTS_PAGE, args)).contains("Index Scan Backward using events_p2026_02_pkey");
    }

    static String plan(String sql, Object[] args) {
        StringBuilder plan = new StringBuilder();
        db.query("EXPLAIN (ANALYZE, COSTS OFF) " + sql, args)
                .forEach(row -> plan.append(row.values().iterator().next()).append('\n'));
        return plan.toString();
    }

    @Test
    void theRangeStatementIsPickedWhereTheWalkWouldBeLonger() {
        Instant now = Instant.parse("2026-12-20T12:00:00Z");
        OffsetDateTime dayStart = OffsetDateTime.parse("2026-10-05T07:00:00Z");
        // open ranges and pages after a cursor: the walk finds their rows at once
        assertThat(QueryVerticle.pageStatement(null, dayStart, null, now)).isEqualTo(Sql.EVENTS_PAGE);
        assertThat(QueryVerticle.pageStatement(dayStart, null, null, now)).isEqualTo(Sql.EVENTS_PAGE);
        assertThat(QueryVerticle.pageStatement(null, null, null, now)).isEqualTo(Sql.EVENTS_PAGE);
        assertThat(QueryVerticle.pageStatement(dayStart, dayStart.plusDays(1), 42L, now))
                .isEqualTo(Sql.EVENTS_PAGE);
        // a day early in a past month: 25 days of the month above it
        assertThat(QueryVerticle.pageStatement(dayStart, dayStart.plusDays(1), null, now))
                .isEqualTo(Sql.EVENTS_PAGE_RANGE);
        // ... in any offset: the month is UTC's
        assertThat(QueryVerticle.pageStatement(
                        dayStart.withOffsetSameInstant(java.time.ZoneOffset.ofHours(-11)),
                        dayStart.plusDays(1).withOffsetSameInstant(java.time.ZoneOffset.ofHours(14)),
                        null,
                        now))
                .isEqualTo(Sql.EVENTS_PAGE_RANGE);
        // 20 days ending on the 6th, against 26 days above; 30 days against 26
        assertThat(QueryVerticle.pageStatement(dayStart.minusDays(19), dayStart.plusDays(1), null, now))
                .isEqualTo(Sql.EVENTS_PAGE_RANGE);
        assertThat(QueryVerticle.pageStatement(dayStart.minusDays(29), dayStart.plusDays(1), null, now))
                .isEqualTo(Sql.EVENTS_PAGE);
        // the month's last day: less of it above the range than in it
        OffsetDateTime last = OffsetDateTime.parse("2026-10-30T20:00:00Z");
        assertThat(QueryVerticle.pageStatement(last, last.plusDays(1), null, now))
                .isEqualTo(Sql.EVENTS_PAGE);
        // the current month: the walk starts at now, not at the month's end
        OffsetDateTime today = OffsetDateTime.parse("2026-12-20T00:00:00Z");
        assertThat(QueryVerticle.pageStatement(today.minusDays(10), today.minusDays(9), null, now))
                .isEqualTo(Sql.EVENTS_PAGE_RANGE);
        assertThat(QueryVerticle.pageStatement(today, today.plusDays(1), null, now))
                .as("a range reaching past now")
                .isEqualTo(Sql.EVENTS_PAGE);
        assertThat(QueryVerticle.pageStatement(today.minusDays(1), today.plusHours(11), null, now))
                .as("a day ending an hour before now")
                .isEqualTo(Sql.EVENTS_PAGE);
    }
}
