package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.setup.IndexTemplate;
import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.PostgresDatabase;
import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verifies retention end to end on a real server, PostgreSQL and Elasticsearch: events over several
 * months sent through the HTTP ingest, then {@code dozor-server retention} with 60 days. The offsets are
 * chosen so the answer does not depend on today's date: a launch 95 days old or older lies in a month
 * that ended before the cutoff (at most 31 days later); one 50 days old or newer in a month that did not.
 */
class RetentionTest {
    static final int DAYS = 60;
    /** Days before now (negative: after, within the ingest's allowed skew). */
    static final double[] GOING = {95, 130, 200};

    static final double[] STAYING = {50, 20, 1.0 / 24, -0.5};
    static final Instant OLD = Instant.parse("2005-03-10T08:00:00Z");

    @Test
    void oldMonthsAndTheirIndicesGoWholeAndWhatStaysIsExact(@TempDir Path dir) {
        Elasticsearch es = Elasticsearch.shared();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            Map<String, String> env = TestServer.env(
                    db.url(), es.url(), DevCertificates.generate(dir.resolve("tls")), dir.resolve("logs"));
            String prefix = env.get("DOZOR_ELASTICSEARCH_INDEX_PREFIX");
            env.put("DOZOR_RETENTION_DAYS", "0"); // the server's own timer keeps everything; the CLI runs below
            Instant now = Instant.now();
            List<Instant> going = new ArrayList<>(List.of(OLD));
            List<Instant> staying = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                for (double d : GOING) {
                    going.add(now.minus(Duration.ofMinutes((long) (d * 24 * 60) + i)));
                }
                for (double d : STAYING) {
                    staying.add(now.minus(Duration.ofMinutes((long) (d * 24 * 60) + i)));
                }
            }
            try (TestServer server = new TestServer(env)) {
                String token = server.token("pc-01");
                JsonArray events = new JsonArray();
                going.forEach(t -> events.add(event(t, "leaver")));
                staying.forEach(t -> events.add(event(t, "stayer")));
                String batch = new JsonObject().put("events", events).encode();
                assertThat(new JsonObject(server.post("/api/v1/events", token, batch)
                                        .body())
                                .getInteger("accepted"))
                        .isEqualTo(22);
                var resent = new JsonObject(
                        server.post("/api/v1/events", token, batch).body());
                assertThat(resent.getInteger("accepted"))
                        .as("a resent event is stored once")
                        .isZero();
                assertThat(db.count("events")).isEqualTo(22);
                YearMonth current = YearMonth.now(ZoneOffset.UTC);
                long earlier = java.util.stream.Stream.concat(going.stream(), staying.stream())
                        .filter(t -> YearMonth.from(t.atOffset(ZoneOffset.UTC)).isBefore(current))
                        .count();
                assertThat(db.count("events_default"))
                        .as("months before the current one have no partition yet")
                        .isEqualTo(earlier)
                        .isGreaterThanOrEqualTo(10);
                Wait.until("all 22 events indexed", Duration.ofSeconds(60), () -> es.count(prefix + "-*") == 22);
                Wait.until("a drained outbox", Duration.ofSeconds(30), () -> db.count("outbox") == 0);
                Map<String, Long> indicesBefore = indices(es, prefix);
                Set<String> goingIndices =
                        months(going, m -> prefix + "-" + String.format("%04d.%02d", m.getYear(), m.getMonthValue()));
                Set<String> goingPartitions =
                        months(going, m -> String.format("events_p%04d_%02d", m.getYear(), m.getMonthValue()));
                assertThat(indicesBefore.keySet()).containsAll(goingIndices);
                // heartbeat indices are months too: an old one goes, this month's stays
                String oldHeartbeats = IndexTemplate.HEARTBEATS_PREFIX + "-2005.03";
                assertThat(es.request(
                                        "POST",
                                        "/" + oldHeartbeats + "/_doc?refresh=true",
                                        "{\"@timestamp\": \"2005-03-10T08:00:00Z\", \"agent\": {\"id\": \"pc-01\"}}")
                                .ok())
                        .isTrue();
                assertThat(server.post("/api/v1/heartbeat", token, "{\"version\": \"1\", \"hostname\": \"PC-01\"}")
                                .statusCode())
                        .isEqualTo(204);
                String currentHeartbeats = IndexTemplate.HEARTBEATS_PREFIX + "-"
                        + String.format("%04d.%02d", current.getYear(), current.getMonthValue());
                Wait.until(
                        "this month's heartbeat indexed",
                        Duration.ofSeconds(30),
                        () -> indices(es, IndexTemplate.HEARTBEATS_PREFIX).containsKey(currentHeartbeats));
                goingIndices.add(oldHeartbeats);
                indicesBefore.put(oldHeartbeats, 1L);

                seedSmallTables(db, now);
                Map<String, String> cli = new HashMap<>(env);
                cli.put("DOZOR_RETENTION_DAYS", Integer.toString(DAYS));

                // retention.days = 0: nothing goes; the months in the default partition get their own
                MainTest.Result keep = MainTest.run(env, "retention");
                assertThat(keep.status()).as(keep.err()).isZero();
                assertThat(keep.out())
                        .startsWith("retention.days = 0: events are kept forever\n")
                        .contains("created partition events_p2005_03\n")
                        .endsWith(
                                "removed: events=0 partitions=0 indices=0 outbox=0 dead_letters=0 notify_held=1 notify_pairs=0"
                                        + " agents=0 agent_alerts=0\n");
                assertThat(db.count("events")).isEqualTo(22);
                assertThat(db.count("events_default")).isZero();
                assertThat(db.count("events_p2005_03")).isEqualTo(1);
                db.execute("INSERT INTO notify_held (sink, event_pk) SELECT 'log', max(id) FROM events"); // a leftover
                // again

                // dry run: says what would go, removes nothing
                MainTest.Result dry = MainTest.run(cli, "retention", "--dry-run");
                assertThat(dry.status()).as(dry.err()).isZero();
                for (String p : goingPartitions) {
                    long n = going.stream().filter(t -> partition(t).equals(p)).count();
                    assertThat(dry.out()).contains("would drop partition " + p + " (" + n + " events)\n");
                }
                for (String index : goingIndices) {
                    assertThat(dry.out())
                            .contains(
                                    "would delete index " + index + " (" + indicesBefore.get(index) + " documents)\n");
                }
                String expected = "events=10 partitions=" + goingPartitions.size() + " indices=" + goingIndices.size()
                        + " outbox=1 dead_letters=2 notify_held=1 notify_pairs=1 agents=1 agent_alerts=1\n";
                assertThat(dry.out()).endsWith("would remove: " + expected);
                assertThat(db.count("events")).isEqualTo(22);
                assertThat(partitions(db)).containsAll(goingPartitions);
                assertThat(indices(es, prefix)).isEqualTo(without(indicesBefore, oldHeartbeats));
                assertThat(indices(es, IndexTemplate.HEARTBEATS_PREFIX)).containsKey(oldHeartbeats);
                assertThat(db.count("dead_letters") + db.count("notify_pairs") + db.count("agents"))
                        .isEqualTo(3 + 2 + 2);

                // the run: whole months and their indices go, everything else stays, counted exactly
                MainTest.Result run = MainTest.run(cli, "retention");
                assertThat(run.status()).as(run.err()).isZero();
                assertThat(run.out()).endsWith("removed: " + expected);
                assertThat(db.count("events")).isEqualTo(12);
                assertThat(db.count("events WHERE username = 'leaver'")).isZero();
                assertThat(partitions(db))
                        .doesNotContainAnyElementsOf(goingPartitions)
                        .containsAll(months(
                                staying, m -> String.format("events_p%04d_%02d", m.getYear(), m.getMonthValue())));
                assertThat(indices(es, prefix).keySet())
                        .doesNotContainAnyElementsOf(goingIndices)
                        .isNotEmpty();
                assertThat(indices(es, IndexTemplate.HEARTBEATS_PREFIX).keySet())
                        .doesNotContain(oldHeartbeats)
                        .contains(currentHeartbeats);
                assertThat(es.count(prefix + "-*")).isEqualTo(12);
                assertThat(db.query("SELECT sink, reason FROM dead_letters ORDER BY reason"))
                        .containsExactly(Map.of("sink", "elasticsearch", "reason", "recent"));
                assertThat(db.query("SELECT sink FROM outbox"))
                        .as("only the stale row of a sink nobody serves went")
                        .containsExactly(Map.of("sink", "telegram:7"));
                assertThat(db.query("SELECT username FROM notify_pairs")).containsExactly(Map.of("username", "recent"));
                assertThat(db.query("SELECT agent_id FROM agents")).containsExactly(Map.of("agent_id", "pc-01"));
                assertThat(db.count("agent_alerts")).isZero();
                assertThat(db.count("notify_held")).isZero();

                // the admin API and the live pipeline still work on what stays
                String admin = server.adminToken("ops");
                HttpResponse<String> page = get(server, "/api/v1/events?limit=100", admin);
                assertThat(page.statusCode()).isEqualTo(200);
                JsonArray rows = new JsonObject(page.body()).getJsonArray("events");
                assertThat(rows).hasSize(12);
                rows.forEach(r ->
                        assertThat(((JsonObject) r).getString("received_at")).isNotNull());
                assertThat(new JsonObject(server.post(
                                                "/api/v1/events",
                                                token,
                                                new JsonObject()
                                                        .put(
                                                                "events",
                                                                new JsonArray()
                                                                        .add(event(now, "after"))
                                                                        .add(event(OLD, "late")))
                                                        .encode())
                                        .body())
                                .getInteger("accepted"))
                        .as("a launch of a dropped month is still accepted (into the default partition)")
                        .isEqualTo(2);
                Wait.until("the new events indexed", Duration.ofSeconds(30), () -> es.count(prefix + "-*") == 14);

                // the server's metrics show its own run (at start, retention.days = 0)
                String metrics = server.ops("/metrics").body();
                assertThat(metrics)
                        .contains(
                                "# HELP dozor_retention_runs_total",
                                "# HELP dozor_retention_removed_total",
                                "dozor_retention_runs_total{result=\"done\"} ",
                                "dozor_retention_removed_total{what=\"events\"} ");
                assertThat(metrics.lines().filter(l -> l.startsWith("dozor_retention_runs_total{result=\"done\"}")))
                        .as("its run at start")
                        .noneMatch(l -> l.endsWith(" 0.0"));
            }
            // reindex rebuilds ES from what stays
            MainTest.Result reindexed = MainTest.run(env, "reindex");
            assertThat(reindexed.status()).as(reindexed.err()).isZero();
            assertThat(reindexed.out()).isEqualTo("reindexed 14 events\n");
        }
    }

    @Test
    void theServersOwnTimerDropsOldMonthsAndLogsOneLinePerRun(@TempDir Path dir) {
        var logged = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        logged.start();
        var logger = (ch.qos.logback.classic.Logger)
                org.slf4j.LoggerFactory.getLogger(io.dozor.server.retention.RetentionVerticle.class);
        logger.addAppender(logged);
        Elasticsearch es = Elasticsearch.shared();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            Map<String, String> env = TestServer.env(
                    db.url(), es.url(), DevCertificates.generate(dir.resolve("tls")), dir.resolve("logs"));
            String prefix = env.get("DOZOR_ELASTICSEARCH_INDEX_PREFIX");
            env.put("DOZOR_RETENTION_DAYS", "30");
            env.put("DOZOR_RETENTION_INTERVAL", "1s");
            try (TestServer server = new TestServer(env)) {
                String token = server.token("pc-01");
                JsonArray events = new JsonArray();
                for (int i = 0; i < 3; i++) {
                    events.add(event(Instant.parse("2020-01-10T10:00:00Z").plusSeconds(i), "leaver"));
                }
                events.add(event(Instant.now().minusSeconds(60), "stayer")).add(event(Instant.now(), "stayer"));
                assertThat(server.post(
                                        "/api/v1/events",
                                        token,
                                        new JsonObject().put("events", events).encode())
                                .statusCode())
                        .isEqualTo(200);
                Wait.until(
                        "the old month dropped by the server's timer",
                        Duration.ofSeconds(30),
                        () -> db.count("events") == 2 && !partitions(db).contains("events_p2020_01"));
                Wait.until(
                        "the old month's index deleted",
                        Duration.ofSeconds(30),
                        () -> !indices(es, prefix).containsKey(prefix + "-2020.01"));
                Wait.until(
                        "a run that says what it removed",
                        Duration.ofSeconds(10),
                        () -> logged.list.stream()
                                .anyMatch(e -> e.getFormattedMessage().startsWith("retention run [cutoff=")
                                        && e.getFormattedMessage().contains("dropped=[events_p2020_01]")
                                        && e.getFormattedMessage().contains("] events=3 partitions=1 indices=")));
                assertThat(logged.list)
                        .allMatch(
                                e -> e.getLevel() == ch.qos.logback.classic.Level.INFO
                                        || e.getFormattedMessage()
                                                .contains(
                                                        "(next run tries again): ERROR: canceling statement due to lock timeout"),
                                "INFO, or a lock wait given up and retried");
                assertThat(logged.list.stream()
                                .map(e -> e.getFormattedMessage())
                                .filter(m -> m.contains("dropped=[events_p2020_01]")))
                        .as("the index went only after its events: none was refused for a missing index on the way")
                        .singleElement()
                        .asString()
                        .contains(" dead_letters=0 ");
                assertThat(logged.list.stream()
                                .filter(e -> e.getFormattedMessage().startsWith("retention run"))
                                .count())
                        .as("one line per run, on the timer")
                        .isGreaterThanOrEqualTo(2);
                assertThat(db.count("outbox WHERE event_pk NOT IN (SELECT id FROM events)"))
                        .isZero();
            }
        } finally {
            logger.detachAppender(logged);
        }
    }

    /** Rows that must go (2 dead letters, 1 stale outbox row, 1 pair, 1 agent with its alert) beside rows that stay. */
    static void seedSmallTables(PostgresDatabase db, Instant now) {
        db.execute("""
        INSERT INTO dead_letters (sink, event_pk, attempts, reason, failed_at)
        SELECT 'elasticsearch', id, 3, 'leaver', now() FROM events WHERE username = 'leaver' LIMIT 1;
        INSERT INTO dead_letters (sink, event_pk, attempts, reason, failed_at)
        SELECT 'telegram:7', id, 3, 'old', now() - interval '61 days' FROM events WHERE username = 'stayer' LIMIT 1;
        INSERT INTO dead_letters (sink, event_pk, attempts, reason, failed_at)
        SELECT 'elasticsearch', id, 3, 'recent', now() - interval '59 days' FROM events WHERE username = 'stayer' LIMIT 1;
        INSERT INTO outbox (sink, event_pk, next_attempt_at)
        SELECT 'telegram:9', id, now() - interval '61 days' FROM events WHERE username = 'stayer' LIMIT 1;
        INSERT INTO outbox (sink, event_pk, next_attempt_at)
        SELECT 'telegram:7', id, now() - interval '59 days' FROM events WHERE username = 'stayer' LIMIT 1;
        INSERT INTO notify_held (sink, event_pk) SELECT 'log', max(id) FROM events;
        INSERT INTO notify_pairs VALUES (7, 'old', 'a.exe', now() - interval '61 days'),
                                        (7, 'recent', 'a.exe', now() - interval '59 days');
        INSERT INTO agents (agent_id, last_seen) VALUES ('pc-gone', now() - interval '61 days');
        INSERT INTO agent_alerts (agent_id, silent_since) VALUES ('pc-gone', now() - interval '61 days')""");
    }

    static JsonObject event(Instant t, String user) {
        return new JsonObject()
                .put("event_id", UUID.randomUUID().toString())
                .put("timestamp", t.toString())
                .put("username", user)
                .put("process_name", "chrome.exe")
                .put("pid", 4312)
                .put("hostname", "PC-01");
    }

    static String partition(Instant t) {
        YearMonth m = YearMonth.from(t.atOffset(ZoneOffset.UTC));
        return String.format("events_p%04d_%02d", m.getYear(), m.getMonthValue());
    }

    static Set<String> months(List<Instant> times, java.util.function.Function<YearMonth, String> name) {
        Set<String> out = new TreeSet<>();
        times.forEach(t -> out.add(name.apply(YearMonth.from(t.atOffset(ZoneOffset.UTC)))));
        return out;
    }

    static Set<String> partitions(PostgresDatabase db) {
        Set<String> out = new TreeSet<>();
        db.query("SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        + "WHERE i.inhparent = 'events'::regclass")
                .forEach(r -> out.add((String) r.get("name")));
        return out;
    }

    /** Index name to document count. */
    static Map<String, Long> without(Map<String, Long> indices, String index) {
        Map<String, Long> out = new HashMap<>(indices);
        out.remove(index);
        return out;
    }

    static Map<String, Long> indices(Elasticsearch es, String prefix) {
        es.count(prefix + "-*");
        Map<String, Long> out = new TreeMap<>();
        new JsonArray(es.get("/_cat/indices/" + prefix + "-*?format=json&h=index,docs.count")).forEach(o -> {
            JsonObject index = (JsonObject) o;
            out.put(index.getString("index"), Long.parseLong(index.getString("docs.count")));
        });
        return out;
    }

    static HttpResponse<String> get(TestServer server, String path, String token) {
        try {
            return server.http.send(
                    HttpRequest.newBuilder(server.uri(path))
                            .header("Authorization", "Bearer " + token)
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
