package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.FakeTelegram;
import io.dozor.testkit.PostgresDatabase;
import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verifies that two server instances on one PostgreSQL and one Elasticsearch share the outbox without
 * doubling anything: every event is indexed once (document version 1) and notified once per chat.
 */
class ScaleOutTest {
    static final String BOT_TOKEN = "9090:SCALE";
    static final List<Long> CHATS = List.of(31337L, 31338L);

    @TempDir
    Path dir;

    @Test
    void twoInstancesShareTheOutboxWithoutDuplicateDocumentsOrMessages() {
        Elasticsearch es = Elasticsearch.shared();
        try (PostgresDatabase db = PostgresDatabase.create();
                FakeTelegram telegram = FakeTelegram.start(BOT_TOKEN)) {
            Map<String, String> env = new HashMap<>(TestServer.env(
                    db.url(), es.url(), DevCertificates.generate(dir.resolve("tls")), dir.resolve("logs")));
            env.put("DOZOR_TELEGRAM_API_URL", telegram.apiUrl());
            env.put("DOZOR_TELEGRAM_BOT_TOKEN", BOT_TOKEN);
            env.put("DOZOR_TELEGRAM_CHAT_IDS", CHATS.get(0) + "," + CHATS.get(1));
            env.put("DOZOR_TELEGRAM_TIME_ZONE", "UTC");
            env.put("DOZOR_TELEGRAM_DIGEST_AFTER", "100");
            env.put("DOZOR_TELEGRAM_BOT_POLLING", "false");
            try (TestServer a = new TestServer(env);
                    TestServer b = new TestServer(env, false)) {
                String prefix = a.config.elasticsearch().indexPrefix();
                String token = a.token("pc-scale");
                // Telegram allows one message a second per chat (per server process): keep the count modest
                int batches = 8;
                int perBatch = 5;
                for (int i = 0; i < batches; i++) {
                    JsonArray events = new JsonArray();
                    for (int j = 0; j < perBatch; j++) {
                        int n = i * perBatch + j;
                        events.add(new JsonObject()
                                .put("event_id", UUID.randomUUID().toString())
                                .put("timestamp", String.format("2026-11-27T10:%02d:%02dZ", n / 60, n % 60))
                                .put("username", "user" + n)
                                .put("process_name", "chrome.exe"));
                    }
                    TestServer target = i % 2 == 0 ? a : b;
                    assertThat(target.post(
                                            "/api/v1/events",
                                            token,
                                            new JsonObject()
                                                    .put("events", events)
                                                    .encode())
                                    .statusCode())
                            .isEqualTo(200);
                }
                int total = batches * perBatch;

                Wait.until(
                        "every notification and document",
                        Duration.ofSeconds(120),
                        () -> db.count("outbox") == 0 && telegram.messages().size() >= total * CHATS.size());
                es.request("POST", "/" + prefix + "-*/_refresh", null);
                JsonObject hits = new JsonObject(es.post(
                                "/" + prefix + "-*/_search",
                                new JsonObject()
                                        .put("size", total + 10)
                                        .put("version", true)
                                        .encode()))
                        .getJsonObject("hits");
                assertThat(hits.getJsonObject("total").getLong("value")).isEqualTo((long) total);
                assertThat(hits.getJsonArray("hits"))
                        .allSatisfy(hit -> assertThat(((JsonObject) hit).getLong("_version"))
                                .as("indexed once")
                                .isEqualTo(1L));
                Map<String, Long> perChatAndText = telegram.messages().stream()
                        .collect(Collectors.groupingBy(m -> m.chatId() + " " + m.text(), Collectors.counting()));
                assertThat(perChatAndText).hasSize(total * CHATS.size());
                assertThat(perChatAndText.values())
                        .as("each message once per chat")
                        .allMatch(n -> n == 1L);
                assertThat(telegram.messages()).allMatch(m -> m.text().endsWith("запустил chrome.exe"));
            }
        }
    }
}
