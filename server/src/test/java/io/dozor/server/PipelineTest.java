package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.FakeTelegram;
import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Verifies the server path on real services: HTTPS ingest → PostgreSQL (the truth)
 * → Elasticsearch and Telegram fed from the outbox.
 */
class PipelineTest {
    static final String BOT_TOKEN = "4242:TEST-token";
    static final long CHAT_A = -1001234567890L;
    static final long CHAT_B = 42L;
    static final Duration DELIVERY = Duration.ofSeconds(30);

    @RegisterExtension
    static final ServerStack stack = ServerStack.builder()
            .telegram(BOT_TOKEN, CHAT_A, CHAT_B)
            .env("DOZOR_TELEGRAM_TIME_ZONE", "Europe/Moscow")
            .build();

    static String token;

    @BeforeAll
    static void enrol() {
        token = stack.server().token("pc-01");
    }

    static JsonObject event(UUID id, String time, String user, String process) {
        return new JsonObject()
                .put("event_id", id.toString())
                .put("timestamp", time)
                .put("username", user)
                .put("process_name", process)
                .put("pid", 4312)
                .put("executable", "C:\\Apps\\" + process)
                .put("hostname", "PC-01");
    }

    static String batch(JsonObject... events) {
        return new JsonObject()
                .put("events", new JsonArray(List.of((Object[]) events)))
                .encode();
    }

    static String index(String time) {
        return stack.server().config.elasticsearch().indexPrefix() + "-"
                + OffsetDateTime.parse(time)
                        .withOffsetSameInstant(ZoneOffset.UTC)
                        .format(DateTimeFormatter.ofPattern("yyyy.MM"));
    }

    static long rows(UUID id) {
        return (Long) stack.db()
                .query("SELECT count(*) AS n FROM events WHERE event_id = $1", id)
                .get(0)
                .get("n");
    }

    @Test
    void acceptedBatchIsCommittedBeforeTheAnswerUnderTheTokensAgent() {
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        var response = stack.server()
                .post(
                        "/api/v1/events",
                        token,
                        batch(
                                event(a, "2026-11-27T09:00:01.500+03:00", "petrov", "telegram.exe")
                                        .put("agent_id", "forged"),
                                event(b, "2026-11-27T09:00:02+03:00", "petrov", "explorer.exe")));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(response.body()))
                .isEqualTo(new JsonObject().put("accepted", 2).put("duplicates", 0));
        var row = stack.db()
                .query(
                        "SELECT \"timestamp\", username, process_name, agent_id, pid, executable, hostname "
                                + "FROM events WHERE event_id = $1",
                        a)
                .get(0);
        assertThat(row.get("timestamp")).isEqualTo(OffsetDateTime.parse("2026-11-27T06:00:01.500Z"));
        assertThat(row)
                .containsEntry("username", "petrov")
                .containsEntry("process_name", "telegram.exe")
                .containsEntry("agent_id", "pc-01")
                .containsEntry("pid", 4312L)
                .containsEntry("executable", "C:\\Apps\\telegram.exe")
                .containsEntry("hostname", "PC-01");
        assertThat(rows(b)).isEqualTo(1);
    }

    @Test
    void resentEventIsStoredOnceAndTheAnswerCountsIt() {
        TestServer server = stack.server();
        UUID old = UUID.randomUUID();
        String first = batch(event(old, "2026-11-27T09:01:00+03:00", "sidorov", "chrome.exe"));
        assertThat(new JsonObject(server.post("/api/v1/events", token, first).body()).getInteger("accepted"))
                .isEqualTo(1);

        var again = server.post("/api/v1/events", token, first);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(again.body()))
                .isEqualTo(new JsonObject().put("accepted", 0).put("duplicates", 1));

        UUID fresh = UUID.randomUUID();
        var mixed = server.post(
                "/api/v1/events",
                token,
                batch(
                        event(old, "2026-11-27T09:01:00+03:00", "sidorov", "chrome.exe"),
                        event(fresh, "2026-11-27T09:01:05+03:00", "sidorov", "chrome.exe"),
                        event(fresh, "2026-11-27T09:01:05+03:00", "sidorov", "chrome.exe")));
        assertThat(new JsonObject(mixed.body()))
                .isEqualTo(new JsonObject().put("accepted", 1).put("duplicates", 2));
        assertThat(rows(old)).isEqualTo(1);
        assertThat(rows(fresh)).isEqualTo(1);
    }

    @Test
    void eventIsIndexedOnceWithEcsFieldsUnderItsEventId() {
        TestServer server = stack.server();
        UUID id = UUID.randomUUID();
        String time = "2026-11-27T09:02:00.250+03:00";
        String body = batch(event(id, time, "kuznetsov", "browser.exe"));
        server.post("/api/v1/events", token, body);
        server.post("/api/v1/events", token, body);

        String path = "/" + index(time) + "/_doc/" + id;
        Wait.until("document " + path, DELIVERY, () -> new JsonObject(stack.es().get(path)).getBoolean("found", false));
        awaitOutboxDrained();
        assertThat(new JsonObject(stack.es().get(path)).getLong("_version"))
                .as("indexed once, never rewritten")
                .isEqualTo(1L);
        JsonObject source = new JsonObject(stack.es().get(path)).getJsonObject("_source");
        assertThat(source.getString("@timestamp")).isEqualTo("2026-11-27T06:02:00.25Z");
        assertThat(source.getJsonObject("event").getString("id")).isEqualTo(id.toString());
        assertThat(source.getJsonObject("user").getString("name")).isEqualTo("kuznetsov");
        assertThat(source.getJsonObject("process").getString("name")).isEqualTo("browser.exe");
        assertThat(source.getJsonObject("process").getLong("pid")).isEqualTo(4312L);
        assertThat(source.getJsonObject("process").getString("executable")).isEqualTo("C:\\Apps\\browser.exe");
        // ECS: host.name lowercased, the name as the agent sent it in host.hostname
        assertThat(source.getJsonObject("host").getString("name")).isEqualTo("pc-01");
        assertThat(source.getJsonObject("host").getString("hostname")).isEqualTo("PC-01");
        assertThat(source.getJsonObject("ecs").getString("version")).isEqualTo("9.2.0");
        assertThat(source.getJsonObject("agent").getString("type")).isEqualTo("dozor");
        assertThat(source.getJsonObject("event").getString("ingested")).isNotNull();
        assertThat(source.getJsonObject("agent").getString("id")).isEqualTo("pc-01");
        stack.es().request("POST", "/" + index(time) + "/_refresh", null);
        String query = new JsonObject()
                .put("query", new JsonObject().put("term", new JsonObject().put("event.id", id.toString())))
                .encode();
        assertThat(new JsonObject(stack.es()
                                .post("/" + server.config.elasticsearch().indexPrefix() + "-*/_count", query))
                        .getLong("count"))
                .isEqualTo(1L);
    }

    @Test
    void everyConfiguredChatGetsTheExactContractText() {
        stack.server()
                .post(
                        "/api/v1/events",
                        token,
                        batch(event(UUID.randomUUID(), "2026-11-27T10:15:03.120+03:00", "ivanov", "chrome.exe")));

        String text = "[2026-11-27 10:15:03] Пользователь ivanov запустил chrome.exe";
        Wait.until("both chats notified", DELIVERY, () -> sentTo(text).size() == 2);
        awaitOutboxDrained();
        assertThat(sentTo(text)).extracting(FakeTelegram.Sent::chatId).containsExactlyInAnyOrder(CHAT_A, CHAT_B);
        assertThat(sentTo(text)).extracting(FakeTelegram.Sent::parseMode).containsOnlyNulls();
    }

    @Test
    void hostileNamesAreStoredAndSentByteExact() {
        String user =
                "<b>ivan&ov</b> \"q\" '; DROP TABLE events;-- \u200Fevil\u200E 😀"; // RLM/LRM marks; overrides are
        // refused
        String process = "*chrome*_[x](y).exe";
        UUID id = UUID.randomUUID();
        stack.server().post("/api/v1/events", token, batch(event(id, "2026-11-27T10:20:00+03:00", user, process)));

        assertThat(stack.db()
                        .query("SELECT username, process_name FROM events WHERE event_id = $1", id)
                        .get(0))
                .containsEntry("username", user)
                .containsEntry("process_name", process);
        String text = "[2026-11-27 10:20:00] Пользователь " + user + " запустил " + process;
        Wait.until("hostile text delivered", DELIVERY, () -> sentTo(text).size() == 2);
        awaitOutboxDrained();
        assertThat(sentTo(text)).hasSize(2);
    }

    @Test
    void telegram429IsObeyedAndTheMessageArrivesOnce() {
        String text = "[2026-11-27 10:30:00] Пользователь smirnov запустил chrome.exe";
        stack.telegram().tooManyRequests(1, 2, text::equals);
        stack.server()
                .post(
                        "/api/v1/events",
                        token,
                        batch(event(UUID.randomUUID(), "2026-11-27T10:30:00+03:00", "smirnov", "chrome.exe")));

        Wait.until("delivery after retry_after", DELIVERY, () -> sentTo(text).size() == 2);
        awaitOutboxDrained();
        assertThat(sentTo(text)).hasSize(2);
        var attempts = stack.telegram().attempts().stream()
                .filter(a -> a.text().equals(text))
                .toList();
        var refused =
                attempts.stream().filter(a -> a.status() == 429).findFirst().orElseThrow();
        var retried = attempts.stream()
                .filter(a -> a.chatId() == refused.chatId() && a.status() == 200)
                .toList();
        assertThat(retried).hasSize(1);
        assertThat(Duration.between(refused.at(), retried.get(0).at())).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void badBatchIsRefusedNamingTheFieldAndNothingOfItIsStored() {
        UUID good = UUID.randomUUID();
        var response = stack.server()
                .post(
                        "/api/v1/events",
                        token,
                        batch(
                                event(good, "2026-11-27T10:40:00+03:00", "ivanov", "chrome.exe"),
                                event(UUID.randomUUID(), "yesterday", "ivanov", "chrome.exe")));

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(response.body()).getString("field")).isEqualTo("events[1].timestamp");
        assertThat(new JsonObject(response.body()).getString("error")).startsWith("events[1].timestamp: ");
        assertThat(rows(good)).isZero();
    }

    @Test
    void tooLargeBodyIs413() {
        TestServer server = stack.server();
        String huge = "{\"events\": [], \"pad\": \""
                + "x".repeat((int) server.config.http().maxBodyBytes()) + "\"}";
        assertThat(server.post("/api/v1/events", token, huge).statusCode()).isEqualTo(413);
    }

    @Test
    void tokensThatAreMissingForgedOrRevokedAreRefused() {
        TestServer server = stack.server();
        String body = batch(event(UUID.randomUUID(), "2026-11-27T10:50:00+03:00", "ivanov", "chrome.exe"));
        String header =
                Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes());
        String payload = token.split("\\.")[1];
        String revoked = server.token("pc-revoked");
        TokenAdmin.revoke(server.config, null, "pc-revoked");

        Map<String, String> refused = Map.of(
                "none",
                "",
                "garbage",
                "not.a.jwt",
                "other secret",
                TestServer.foreignToken(server.vertx, "another-secret-0123456789abcdef0123", "HS256", "pc-01"),
                "same secret, HS512",
                TestServer.foreignToken(server.vertx, TestServer.SECRET, "HS512", "pc-01"),
                "same secret, unregistered",
                TestServer.foreignToken(server.vertx, TestServer.SECRET, "HS256", "pc-01"),
                "alg none",
                header + "." + payload + ".",
                "revoked",
                revoked);
        refused.forEach((what, bad) -> {
            HttpResponse<String> response = server.post("/api/v1/events", bad.isEmpty() ? null : bad, body);
            assertThat(response.statusCode()).as(what).isEqualTo(401);
        });
        assertThat(stack.db().count("events WHERE username = 'ivanov' AND \"timestamp\" = '2026-11-27T10:50:00+03:00'"))
                .isZero();
        assertThat(server.post("/api/v1/events", token, body).statusCode()).isEqualTo(200);
    }

    @Test
    void heartbeatRecordsTheAgentAndBadHeartbeatsAreRefused() {
        TestServer server = stack.server();
        String agent = "pc-heartbeat";
        String agentToken = server.token(agent);
        var ok = server.post(
                "/api/v1/heartbeat",
                agentToken,
                "{\"version\":\"0.1.0\",\"hostname\":\"PC-HB\",\"spool_depth\":3,\"dropped_events\":1,\"agent_id\":\"x\"}");
        assertThat(ok.statusCode()).isEqualTo(204);
        assertThat(stack.db()
                        .query(
                                "SELECT hostname, version, spool_depth, dropped_events, "
                                        + "last_heartbeat IS NOT NULL AS beat FROM agents WHERE agent_id = $1",
                                agent)
                        .get(0))
                .containsEntry("hostname", "PC-HB")
                .containsEntry("version", "0.1.0")
                .containsEntry("spool_depth", 3L)
                .containsEntry("dropped_events", 1L)
                .containsEntry("beat", true);

        var bad = server.post("/api/v1/heartbeat", agentToken, "{\"version\":\"0.1.0\",\"spool_depth\":-1}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(bad.body()).getString("field")).isEqualTo("hostname");
        assertThat(server.post("/api/v1/heartbeat", null, "{}").statusCode()).isEqualTo(401);
    }

    @Test
    void aSpoolErrorAndTheUnpersistedCountAreStoredShownAndClearedAndBadOnesRefused() {
        TestServer server = stack.server();
        String agent = "pc-spool-health";
        String agentToken = server.token(agent);
        String admin = server.adminToken("ops-spool");
        assertThat(server.post(
                                "/api/v1/heartbeat",
                                agentToken,
                                "{\"version\":\"0.1.0\",\"hostname\":\"PC-SH\","
                                        + "\"spool_depth\":2,\"dropped_events\":1,\"unpersisted_events\":5,\"spool_error\":\"disk full\"}")
                        .statusCode())
                .isEqualTo(204);
        JsonObject shown = agentShown(admin, agent);
        assertThat(shown.getString("spool_error")).isEqualTo("disk full");
        assertThat(shown.getLong("unpersisted_events")).isEqualTo(5L);
        assertThat(shown.getLong("dropped_events")).isEqualTo(1L);

        // an agent of before: neither field; the spool works
        assertThat(server.post(
                                "/api/v1/heartbeat",
                                agentToken,
                                "{\"version\":\"0.1.0\",\"hostname\":\"PC-SH\",\"spool_depth\":0,\"dropped_events\":1}")
                        .statusCode())
                .isEqualTo(204);
        shown = agentShown(admin, agent);
        assertThat(shown.containsKey("spool_error")).isTrue();
        assertThat(shown.getString("spool_error")).isNull();
        assertThat(shown.getLong("unpersisted_events")).isZero();

        Map<String, String> bad = Map.of(
                "\"spool_error\":\"\"",
                "spool_error",
                "\"spool_error\":\"  \"",
                "spool_error",
                "\"spool_error\":42",
                "spool_error",
                "\"spool_error\":\"disk\\nfull\"",
                "spool_error",
                "\"spool_error\":\"" + "x".repeat(201) + "\"",
                "spool_error",
                "\"unpersisted_events\":-1",
                "unpersisted_events",
                "\"unpersisted_events\":\"5\"",
                "unpersisted_events",
                "\"unpersisted_events\":1.5",
                "unpersisted_events");
        bad.forEach((field, name) -> {
            var response = server.post(
                    "/api/v1/heartbeat", agentToken, "{\"version\":\"0.1.0\",\"hostname\":\"PC-SH\"," + field + "}");
            assertThat(response.statusCode()).as(field).isEqualTo(400);
            assertThat(new JsonObject(response.body()).getString("field"))
                    .as(field)
                    .isEqualTo(name);
        });
        assertThat(agentShown(admin, agent).getString("spool_error"))
                .as("nothing stored by a refused heartbeat")
                .isNull();
    }

    private JsonObject agentShown(String admin, String agent) {
        var agents = new JsonObject(adminGet("/api/v1/agents", admin).body()).getJsonArray("agents");
        return agents.stream()
                .map(a -> (JsonObject) a)
                .filter(a -> agent.equals(a.getString("agent_id")))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void storingEventsMarksTheAgentAsSeen() {
        stack.server()
                .post(
                        "/api/v1/events",
                        token,
                        batch(event(UUID.randomUUID(), "2026-11-27T11:10:00+03:00", "ivanov", "chrome.exe")));
        assertThat(stack.db()
                        .query("SELECT count(*) AS n FROM agents WHERE agent_id = 'pc-01' "
                                + "AND last_seen > now() - interval '1 minute'")
                        .get(0))
                .containsEntry("n", 1L);
    }

    @Test
    void adminApiListsEventsWithFiltersAndPagingForAdminTokensOnly() {
        TestServer server = stack.server();
        String admin = server.adminToken("ops");
        String agent = "pc-admin-test";
        String agentToken = server.token(agent);
        List<UUID> ids = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
        server.post(
                "/api/v1/events",
                agentToken,
                batch(
                        event(ids.get(0), "2026-11-27T13:00:00+03:00", "orlov", "chrome.exe"),
                        event(ids.get(1), "2026-11-27T13:01:00+03:00", "orlov", "telegram.exe"),
                        event(ids.get(2), "2026-11-27T13:02:00+03:00", "orlov", "chrome.exe")));

        var first = new JsonObject(
                adminGet("/api/v1/events?agent=" + agent + "&limit=2", admin).body());
        assertThat(first.getJsonArray("events")).hasSize(2);
        assertThat(first.getJsonArray("events").getJsonObject(0).getString("event_id"))
                .isEqualTo(ids.get(2).toString());
        var second = new JsonObject(
                adminGet("/api/v1/events?agent=" + agent + "&limit=2&cursor=" + first.getString("next_cursor"), admin)
                        .body());
        assertThat(second.getJsonArray("events")).hasSize(1);
        assertThat(second.containsKey("next_cursor")).isFalse();

        var filtered = new JsonObject(adminGet(
                        "/api/v1/events?agent=" + agent + "&process=chrome.exe"
                                + "&from=2026-11-27T13:01:30%2B03:00&to=2026-11-27T14:00:00%2B03:00",
                        admin)
                .body());
        assertThat(filtered.getJsonArray("events"))
                .extracting(e -> ((JsonObject) e).getString("event_id"))
                .containsExactly(ids.get(2).toString());

        var agents = new JsonObject(adminGet("/api/v1/agents", admin).body()).getJsonArray("agents");
        assertThat(agents)
                .extracting(a -> ((JsonObject) a).getString("agent_id"))
                .contains(agent);

        var badParam = adminGet("/api/v1/events?from=yesterday", admin);
        assertThat(badParam.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(badParam.body()).getString("field")).isEqualTo("from");
        assertThat(adminGet("/api/v1/events?limit=1001", admin).statusCode()).isEqualTo(400);
        assertThat(adminGet("/api/v1/events", agentToken).statusCode())
                .as("agent token on the admin API")
                .isEqualTo(401);
        assertThat(adminGet("/api/v1/agents", null).statusCode()).isEqualTo(401);
        assertThat(server.post(
                                "/api/v1/events",
                                admin,
                                batch(event(UUID.randomUUID(), "2026-11-27T13:03:00+03:00", "orlov", "chrome.exe")))
                        .statusCode())
                .as("admin token on ingest")
                .isEqualTo(401);
    }

    @Test
    void aNulOrOtherControlCharacterInAnAdminFilterIs400NamingTheParameter() {
        String admin = stack.server().adminToken("ops-filters");
        for (String param : List.of("user", "process", "agent")) {
            for (String bad : List.of("%00", "iva%00nov", "a%0Ab", "%C2%85")) {
                var response = adminGet("/api/v1/events?" + param + "=" + bad, admin);
                assertThat(response.statusCode()).as(param + "=" + bad).isEqualTo(400);
                assertThat(new JsonObject(response.body()).getString("field")).isEqualTo(param);
            }
        }
        assertThat(adminGet("/api/v1/events?user=%D0%B8%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2", admin)
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void readyzAndMetricsReportTheService() {
        TestServer server = stack.server();
        assertThat(server.ops("/readyz").statusCode()).isEqualTo(200);
        assertThat(new JsonObject(server.ops("/readyz").body())
                        .getJsonObject("postgres")
                        .getBoolean("up"))
                .isTrue();
        server.post(
                "/api/v1/events",
                token,
                batch(event(UUID.randomUUID(), "2026-11-27T13:10:00+03:00", "ivanov", "chrome.exe")));
        String metrics = server.ops("/metrics").body();
        assertThat(metrics)
                .contains("dozor_ingest_events_total{result=\"accepted\"}")
                .contains("dozor_ingest_ack_seconds_bucket")
                .contains("vertx_http_server_requests_total");
        Wait.until("outbox gauge and delivery counters", DELIVERY, () -> {
            String m = server.ops("/metrics").body();
            return m.contains("dozor_outbox_depth{sink=\"elasticsearch\"}")
                    && m.contains("dozor_deliveries_total{outcome=\"done\",sink=\"elasticsearch\"}");
        });
    }

    @Test
    void onlyTheAgentsRefusedRequestsCountAsIngestRefusals() {
        TestServer server = stack.server();
        String admin = server.adminToken("ops-refusals");
        double bad = refused("400");
        double unauthorized = refused("401");
        assertThat(adminGet("/api/v1/events?limit=0", admin).statusCode()).isEqualTo(400);
        assertThat(adminGet("/api/v1/agents", null).statusCode()).isEqualTo(401);
        assertThat(adminGet("/api/v1/nothing", admin).statusCode()).isEqualTo(404);
        assertThat(refused("400")).as("a bad admin query").isEqualTo(bad);
        assertThat(refused("401")).as("a missing admin token").isEqualTo(unauthorized);
        assertThat(server.post("/api/v1/events", token, "{\"events\": []}").statusCode())
                .isEqualTo(400);
        assertThat(server.post("/api/v1/events", null, "{\"events\": []}").statusCode())
                .isEqualTo(401);
        assertThat(refused("400")).as("a bad batch").isEqualTo(bad + 1);
        assertThat(refused("401")).as("a batch without a token").isEqualTo(unauthorized + 1);
    }

    /** The value of {@code dozor_ingest_refused_total{status}} (0 before the first). */
    static double refused(String status) {
        return stack.server().metric("dozor_ingest_refused_total{status=\"" + status + "\"}");
    }

    static HttpResponse<String> adminGet(String path, String adminToken) {
        TestServer server = stack.server();
        try {
            var request = java.net.http.HttpRequest.newBuilder(server.uri(path)).GET();
            if (adminToken != null) {
                request.header("Authorization", "Bearer " + adminToken);
            }
            return server.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void healthzAnswersWithoutAuthentication() {
        var response = stack.server().get("/healthz");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(response.body()).getString("status")).isEqualTo("ok");
    }

    @Test
    void readinessAndMetricsAreOnTheOpsListenerOnly() {
        TestServer server = stack.server();
        assertThat(server.config.ops().host()).isEqualTo("127.0.0.1");
        assertThat(server.server.opsPort()).isNotEqualTo(server.server.port());
        for (String path : List.of("/metrics", "/readyz")) {
            var onAgentsPort = server.get(path);
            assertThat(onAgentsPort.statusCode())
                    .as(path + " on the agents' port")
                    .isEqualTo(404);
            assertThat(onAgentsPort.body()).doesNotContain("dozor_");
        }
        assertThat(server.ops("/healthz").statusCode()).isEqualTo(200);
        assertThat(server.ops("/api/v1/agents").statusCode())
                .as("no API on the ops listener")
                .isEqualTo(404);
    }

    @Test
    void theLastPageOfTheAdminApiHasNoNextCursor() {
        TestServer server = stack.server();
        String admin = server.adminToken("ops-paging");
        String agentToken = server.token("pc-paging-test");
        server.post(
                "/api/v1/events",
                agentToken,
                batch(
                        event(UUID.randomUUID(), "2026-11-27T15:00:00+03:00", "lebedev", "chrome.exe"),
                        event(UUID.randomUUID(), "2026-11-27T15:01:00+03:00", "lebedev", "chrome.exe"),
                        event(UUID.randomUUID(), "2026-11-27T15:02:00+03:00", "lebedev", "chrome.exe"),
                        event(UUID.randomUUID(), "2026-11-27T15:03:00+03:00", "lebedev", "chrome.exe")));

        var whole = new JsonObject(
                adminGet("/api/v1/events?agent=pc-paging-test&limit=4", admin).body());
        assertThat(whole.getJsonArray("events")).hasSize(4);
        assertThat(whole.containsKey("next_cursor"))
                .as("exactly a full page and nothing after it")
                .isFalse();
        assertThat(whole.getJsonArray("events").getJsonObject(3).getString("timestamp"))
                .as("RFC 3339 in UTC, seconds written even when zero")
                .isEqualTo("2026-11-27T12:00:00Z");

        var first = new JsonObject(
                adminGet("/api/v1/events?agent=pc-paging-test&limit=2", admin).body());
        assertThat(first.getJsonArray("events")).hasSize(2);
        assertThat(first.getString("next_cursor")).isNotNull();
        var last = new JsonObject(
                adminGet("/api/v1/events?agent=pc-paging-test&limit=2&cursor=" + first.getString("next_cursor"), admin)
                        .body());
        assertThat(last.getJsonArray("events")).hasSize(2);
        assertThat(last.containsKey("next_cursor")).as("a full last page").isFalse();
    }

    @Test
    void unknownRoutesAndMethodsAnswerJson() {
        TestServer server = stack.server();
        var missing = server.get("/api/v1/nothing-here");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(new JsonObject(missing.body()).getString("error"))
                .isEqualTo("no such route: GET /api/v1/nothing-here");

        var wrongMethod = server.get("/api/v1/heartbeat");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(new JsonObject(wrongMethod.body()).getString("error"))
                .isEqualTo("method GET not allowed on /api/v1/heartbeat");
    }

    @Test
    void aSecondServerWithTheSameConfigurationAcceptsTheSameToken() {
        try (TestServer second = new TestServer(stack.env(), false)) {
            assertThat(second.server.port()).isNotEqualTo(stack.server().server.port());
            UUID id = UUID.randomUUID();
            var response = second.post(
                    "/api/v1/events", token, batch(event(id, "2026-11-27T11:00:00+03:00", "ivanov", "chrome.exe")));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(rows(id)).isEqualTo(1);
        }
    }

    /** Nothing left to deliver, so counts taken now are final (a row never deleted would be resent). */
    static void awaitOutboxDrained() {
        Wait.until("an empty outbox", DELIVERY, () -> stack.db().count("outbox") == 0);
    }

    static List<FakeTelegram.Sent> sentTo(String text) {
        return stack.telegram().messages().stream()
                .filter(m -> m.text().equals(text))
                .toList();
    }
}
