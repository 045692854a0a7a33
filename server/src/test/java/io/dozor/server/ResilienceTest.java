package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Verifies what outages do: PostgreSQL and Elasticsearch are reached through TCP proxies the test can
 * cut or hang. PostgreSQL gone or hung → 503 with Retry-After within seconds, never a 2xx, nothing half
 * stored; Elasticsearch gone → ingest goes on, indexing waits, then catches up with nothing lost.
 */
class ResilienceTest {
    @RegisterExtension
    static final ServerStack stack = ServerStack.builder().proxied().build();

    static String token;
    static String prefix;

    @BeforeAll
    static void enrol() {
        TestServer server = stack.server();
        prefix = server.config.elasticsearch().indexPrefix();
        token = server.token("pc-resilience");
    }

    @AfterEach
    void servicesBack() {
        stack.pgProxy().restore();
        stack.esProxy().restore();
    }

    static String batch(List<UUID> ids, String time) {
        JsonArray events = new JsonArray();
        ids.forEach(id -> events.add(new JsonObject()
                .put("event_id", id.toString())
                .put("timestamp", time)
                .put("username", "ivanov")
                .put("process_name", "chrome.exe")
                .put("hostname", "PC-R")));
        return new JsonObject().put("events", events).encode();
    }

    static List<UUID> ids(int n) {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(UUID.randomUUID());
        }
        return ids;
    }

    static long stored(List<UUID> ids) {
        return (Long) stack.db()
                .query("SELECT count(*) AS n FROM events WHERE event_id = ANY($1)", (Object) ids.toArray(UUID[]::new))
                .get(0)
                .get("n");
    }

    static long indexed(List<UUID> ids) {
        stack.es().request("POST", "/" + prefix + "-*/_refresh", null);
        JsonArray values = new JsonArray();
        ids.forEach(id -> values.add(id.toString()));
        String query = new JsonObject()
                .put("query", new JsonObject().put("terms", new JsonObject().put("event.id", values)))
                .encode();
        return new JsonObject(stack.es().post("/" + prefix + "-*/_count", query)).getLong("count");
    }

    @Test
    void postgresGoneIsAnswered503WithRetryAfterQuicklyAndRecovers() {
        TestServer server = stack.server();
        List<UUID> ids = ids(3);
        String body = batch(ids, "2026-11-27T12:00:00+03:00");
        stack.pgProxy().cut();
        Instant asked = Instant.now();
        var refused = server.post("/api/v1/events", token, body);
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).contains("5");
        assertThat(Duration.between(asked, Instant.now())).isLessThan(Duration.ofSeconds(8));
        assertThat(server.ops("/readyz").statusCode()).isEqualTo(503);

        stack.pgProxy().restore();
        assertThat(stored(ids)).as("nothing of the refused batch").isZero();
        Wait.until(
                "a 2xx once PostgreSQL is back",
                Duration.ofSeconds(30),
                () -> server.post("/api/v1/events", token, body).statusCode() == 200);
        assertThat(stored(ids)).isEqualTo(3);
        Wait.until(
                "ready again",
                Duration.ofSeconds(10),
                () -> server.ops("/readyz").statusCode() == 200);
    }

    @Test
    void hungPostgresIsAnswered503WithinSecondsNeverAHang() {
        String body = batch(ids(1), "2026-11-27T12:05:00+03:00");
        stack.pgProxy().blackhole();
        Instant asked = Instant.now();
        var refused = stack.server().post("/api/v1/events", token, body);
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(Duration.between(asked, Instant.now())).isLessThan(Duration.ofSeconds(8));
    }

    @Test
    void elasticsearchOutageDelaysIndexingButLosesNothing() {
        TestServer server = stack.server();
        List<UUID> warmUp = ids(1);
        server.post("/api/v1/events", token, batch(warmUp, "2026-11-27T12:09:00+03:00"));
        Wait.until("indexing to flow before the outage", Duration.ofSeconds(30), () -> indexed(warmUp) == 1);
        stack.esProxy().cut();
        List<UUID> ids = ids(50);
        for (int i = 0; i < ids.size(); i += 10) {
            var response =
                    server.post("/api/v1/events", token, batch(ids.subList(i, i + 10), "2026-11-27T12:10:00+03:00"));
            assertThat(response.statusCode())
                    .as("ingest goes on while ES is down")
                    .isEqualTo(200);
        }
        assertThat(stored(ids)).isEqualTo(50);
        Wait.until(
                "the server to see ES down",
                Duration.ofSeconds(15),
                () -> new JsonObject(server.ops("/readyz").body())
                                .getJsonObject("elasticsearch")
                                .getBoolean("up")
                        == false);
        Wait.until(
                "a delivery attempt to have failed",
                Duration.ofSeconds(15),
                () -> (Long) stack.db()
                                .query("SELECT count(*) AS n FROM outbox WHERE sink = 'elasticsearch' AND attempts > 0")
                                .get(0)
                                .get("n")
                        > 0);
        assertThat(indexed(ids)).isZero();

        stack.esProxy().restore();
        Wait.until("all 50 indexed after ES is back", Duration.ofSeconds(60), () -> indexed(ids) == 50);
        Wait.until(
                "the ES outbox drained",
                Duration.ofSeconds(30),
                () -> stack.db().count("outbox WHERE sink = 'elasticsearch'") == 0);
    }

    @Test
    void mappingErrorIsDeadLetteredWithItsReasonAndThePipelineKeepsFlowing() {
        TestServer server = stack.server();
        // an index whose mapping the document cannot satisfy: user.name must be a number there
        stack.createPoisonedIndex(prefix + "-2001.01");
        List<UUID> bad = ids(1);
        List<UUID> good = ids(1);
        server.post("/api/v1/events", token, batch(bad, "2001-01-15T10:00:00Z"));
        server.post("/api/v1/events", token, batch(good, "2026-11-27T12:20:00+03:00"));

        Wait.until("the good event indexed", Duration.ofSeconds(30), () -> indexed(good) == 1);
        Wait.until(
                "the bad event dead-lettered",
                Duration.ofSeconds(30),
                () -> !stack.db()
                        .query(
                                "SELECT 1 FROM dead_letters d JOIN events e ON e.id = d.event_pk WHERE e.event_id = $1",
                                bad.get(0))
                        .isEmpty());
        var letter = stack.db()
                .query(
                        "SELECT d.sink, d.reason FROM dead_letters d JOIN events e ON e.id = d.event_pk "
                                + "WHERE e.event_id = $1",
                        bad.get(0))
                .get(0);
        assertThat(letter).containsEntry("sink", "elasticsearch");
        assertThat((String) letter.get("reason")).startsWith("400 document_parsing_exception");
        assertThat(stack.db()
                        .query(
                                "SELECT count(*) AS n FROM outbox o JOIN events e ON e.id = o.event_pk "
                                        + "WHERE e.event_id = $1 AND o.sink = 'elasticsearch'",
                                bad.get(0))
                        .get(0))
                .containsEntry("n", 0L);
    }
}
