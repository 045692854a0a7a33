package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.setup.IndexTemplate;
import io.dozor.testkit.Elasticsearch;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What reaches Elasticsearch from the agents, end to end on the real server, PostgreSQL and Elasticsearch: a
 * launch with the optional fields of newer agents becomes an ECS document with them and event.ingested; a
 * heartbeat becomes an ECS document of dozor-heartbeats-*, durably: one received while Elasticsearch is out
 * stays in the heartbeats table until a server that reaches Elasticsearch indexes it; heartbeats past
 * retention.days go.
 */
class FleetFeedTest {
    static final Duration DELIVERY = Duration.ofSeconds(60);

    @RegisterExtension
    static final ServerStack stack = ServerStack.builder().build();

    static void await(String what, BooleanSupplier done) throws InterruptedException {
        Instant deadline = Instant.now().plus(DELIVERY);
        while (!done.getAsBoolean()) {
            assertThat(Instant.now()).as(what).isBefore(deadline);
            Thread.sleep(200);
        }
    }

    static JsonObject search(String indices, String field, String value) {
        stack.es().request("POST", "/" + indices + "/_refresh", null);
        String body = new JsonObject()
                .put("query", new JsonObject().put("term", new JsonObject().put(field, value)))
                .encode();
        Elasticsearch.Response r = stack.es().request("POST", "/" + indices + "/_search?ignore_unavailable=true", body);
        return r.status() == 200
                ? new JsonObject(r.body())
                : new JsonObject().put("hits", new JsonObject().put("hits", new JsonArray()));
    }

    static List<JsonObject> sources(JsonObject answer) {
        return answer.getJsonObject("hits").getJsonArray("hits").stream()
                .map(h -> ((JsonObject) h).getJsonObject("_source"))
                .toList();
    }

    static String heartbeat(String version, String hostname) {
        return new JsonObject()
                .put("version", version)
                .put("hostname", hostname)
                .put("spool_depth", 7)
                .put("dropped_events", 2)
                .put("unpersisted_events", 3)
                .put("spool_error", "disk full")
                .encode();
    }

    @Test
    void aLaunchWithTheNewOptionalFieldsIsIndexedWithThemAsEcs() throws Exception {
        TestServer server = stack.server();
        UUID id = UUID.randomUUID();
        JsonObject event = new JsonObject()
                .put("event_id", id.toString())
                .put("timestamp", "2026-11-27T10:15:03.120+03:00")
                .put("username", "ivanov")
                .put("process_name", "chrome.exe")
                .put("pid", 4312)
                .put("executable", "C:\\Apps\\chrome.exe")
                .put("hostname", "PC-Fleet-01")
                .put("parent_pid", 812)
                .put("parent_name", "explorer.exe")
                .put("user_domain", "CORP")
                .put("os_type", "windows")
                .put("os_family", "windows")
                .put("agent_version", "0.2.0");
        var response = server.post(
                "/api/v1/events",
                server.token("pc-fleet-01"),
                new JsonObject().put("events", new JsonArray().add(event)).encode());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);

        String indices = server.config.elasticsearch().indexPrefix() + "-*";
        await(
                "the launch indexed",
                () -> !sources(search(indices, "event.id", id.toString())).isEmpty());
        JsonObject doc = sources(search(indices, "event.id", id.toString())).get(0);
        assertThat(EcsFields.valueAt(doc, "process.parent.pid")).isEqualTo(812);
        assertThat(EcsFields.valueAt(doc, "process.parent.name")).isEqualTo("explorer.exe");
        assertThat(EcsFields.valueAt(doc, "user.domain")).isEqualTo("CORP");
        assertThat(EcsFields.valueAt(doc, "user.name")).isEqualTo("ivanov");
        assertThat(EcsFields.valueAt(doc, "host.os.type")).isEqualTo("windows");
        assertThat(EcsFields.valueAt(doc, "agent.version")).isEqualTo("0.2.0");
        assertThat(EcsFields.valueAt(doc, "agent.type")).isEqualTo("dozor");
        assertThat(EcsFields.valueAt(doc, "host.name")).isEqualTo("pc-fleet-01");
        assertThat(EcsFields.valueAt(doc, "host.hostname")).isEqualTo("PC-Fleet-01");
        Object receivedAt = stack.db()
                .query("SELECT received_at FROM events WHERE event_id = $1", id)
                .get(0)
                .get("received_at");
        assertThat(Instant.parse((String) EcsFields.valueAt(doc, "event.ingested")))
                .isEqualTo(((java.time.OffsetDateTime) receivedAt).toInstant());
    }

    @Test
    void aHeartbeatIsIndexedAsAnEcsDocumentAndLeavesTheTable() throws Exception {
        String agent = "pc-hb-" + UUID.randomUUID().toString().substring(0, 8);
        TestServer server = stack.server();
        assertThat(server.post("/api/v1/heartbeat", server.token(agent), heartbeat("0.1.0", "PC-HB-01"))
                        .statusCode())
                .isEqualTo(204);
        String indices = IndexTemplate.HEARTBEATS_PREFIX + "-*";
        await(
                "the heartbeat indexed",
                () -> !sources(search(indices, "agent.id", agent)).isEmpty());
        JsonObject doc = sources(search(indices, "agent.id", agent)).get(0);
        assertThat(doc.getJsonObject("dozor").getJsonObject("agent").getLong("spool_depth"))
                .isEqualTo(7);
        assertThat(doc.getJsonObject("dozor").getJsonObject("agent").getLong("dropped_events"))
                .isEqualTo(2);
        assertThat(EcsFields.valueAt(doc, "dozor.agent.unpersisted_events")).isEqualTo(3);
        assertThat(EcsFields.valueAt(doc, "dozor.agent.spool_error")).isEqualTo("disk full");
        assertThat(EcsFields.valueAt(doc, "agent.version")).isEqualTo("0.1.0");
        assertThat(EcsFields.valueAt(doc, "host.name")).isEqualTo("pc-hb-01");
        assertThat(EcsFields.valueAt(doc, "event.kind")).isEqualTo("metric");
        assertThat(EcsFields.valueAt(doc, "ecs.version")).isEqualTo(EcsFields.ECS.getString("ecs_version"));
        await(
                "the row deleted once indexed",
                () -> stack.db().count("heartbeats WHERE agent_id = '" + agent + "'") == 0);

        // every field of the document is mapped, and the live mapping is ECS or documented dozor.*
        String index = search(indices, "agent.id", agent)
                .getJsonObject("hits")
                .getJsonArray("hits")
                .getJsonObject(0)
                .getString("_index");
        Map<String, JsonObject> mapping =
                EcsFields.leaves(new JsonObject(stack.es().get("/" + index + "/_mapping"))
                        .getJsonObject(index)
                        .getJsonObject("mappings")
                        .getJsonObject("properties"));
        assertThat(mapping.keySet()).containsAll(EcsFields.documentFields(doc));
        assertThat(EcsFields.departures(mapping, !EcsFields.hasEcsTypes(stack.es())))
                .isEmpty();
        assertThat(EcsFields.valueDepartures(doc)).isEmpty();
    }

    @Test
    void aHeartbeatReceivedWhileElasticsearchIsOutWaitsInTheTableUntilAServerReachesIt() throws Exception {
        String agent = "pc-hb-out-" + UUID.randomUUID().toString().substring(0, 8);
        var env = TestServer.env(
                stack.db().url(),
                "http://127.0.0.1:9",
                stack.certs(),
                stack.dir().resolve("logs-out"));
        try (TestServer cut = new TestServer(env, false)) {
            assertThat(cut.post("/api/v1/heartbeat", cut.token(agent), heartbeat("0.1.0", "PC-OUT"))
                            .statusCode())
                    .isEqualTo(204);
        }
        // only the heartbeats table carries it now: the server that received it never reached Elasticsearch
        // the server that reaches Elasticsearch (sharing the database) indexes it; backoff may delay it a little
        stack.db().execute("UPDATE heartbeats SET next_attempt_at = now() WHERE agent_id = '" + agent + "'");
        String indices = IndexTemplate.HEARTBEATS_PREFIX + "-*";
        await(
                "the waiting heartbeat indexed",
                () -> !sources(search(indices, "agent.id", agent)).isEmpty());
        await("and its row gone", () -> stack.db().count("heartbeats WHERE agent_id = '" + agent + "'") == 0);
    }

    @Test
    void heartbeatsOlderThanTheRetentionGoEvenIfNeverIndexed() throws Exception {
        stack.db()
                .execute(
                        "INSERT INTO heartbeats (agent_id, received_at, hostname, version, spool_depth, dropped_events, "
                                + "next_attempt_at, last_error) VALUES ('pc-old', now() - interval '200 days', 'PC-OLD', '0.1.0', 0, 0, "
                                + "'infinity', 'refused'), ('pc-kept', now() - interval '100 days', 'PC-KEPT', '0.1.0', 0, 0, "
                                + "'infinity', 'refused')");
        await(
                "the heartbeat past 180 days deleted",
                () -> stack.db().count("heartbeats WHERE agent_id = 'pc-old'") == 0);
        assertThat(stack.db().count("heartbeats WHERE agent_id = 'pc-kept'")).isEqualTo(1);
    }
}
