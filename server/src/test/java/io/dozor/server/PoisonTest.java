package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Poison in the outbox, end to end on the real server, PostgreSQL, Elasticsearch and a fake Bot API:
 * while good events arrive through the API, rows no sink can deliver are written straight into
 * PostgreSQL (as ingest used to accept them): launch times PostgreSQL holds but Elasticsearch cannot
 * ('infinity', '-infinity', year 294276, 4713 BC), and launches whose message Telegram refuses (a 400
 * about the text, not the chat). Every good event is indexed once and notified once in each chat, each
 * poison row ends in dead_letters for the sinks it poisons with the reason, and nothing stays in the outbox.
 */
class PoisonTest {
    static final String BOT_TOKEN = "4242:POISON-token";
    static final long CHAT_1 = 101L;
    static final long CHAT_2 = 102L;
    static final List<String> SINKS = List.of("elasticsearch", "telegram:" + CHAT_1, "telegram:" + CHAT_2);
    static final List<String> UNINDEXABLE =
            List.of("infinity", "-infinity", "294276-12-31 23:59:59+00", "4713-11-24 00:00:00+00 BC");
    static final String REFUSAL = "Bad Request: message is too long";

    @RegisterExtension
    static final ServerStack stack = ServerStack.builder()
            .telegram(BOT_TOKEN, CHAT_1, CHAT_2)
            .env("DOZOR_TELEGRAM_TIME_ZONE", "UTC")
            .env("DOZOR_TELEGRAM_DIGEST_AFTER", "100") // one message per launch, so each can be counted
            .build();

    /** A row written as ingest used to: the event and one outbox row per sink, in one statement. */
    static long poison(String timestamp, String user) {
        return (Long) stack.db()
                .query("""
        WITH e AS (
          INSERT INTO events (event_id, "timestamp", username, process_name, agent_id)
          VALUES (gen_random_uuid(), $1::text::timestamptz, $2, 'x.exe', 'pc-poison') RETURNING id
        ), o AS (
          INSERT INTO outbox (sink, event_pk) SELECT s, e.id FROM e, unnest($3::text[]) s
        )
        SELECT id FROM e""", timestamp, user, SINKS.toArray(String[]::new))
                .get(0)
                .get("id");
    }

    @Test
    void poisonRowsAreDeadLetteredAndEveryGoodEventIsDeliveredOnTime() {
        TestServer server = stack.server();
        // Telegram refuses the text of every launch by a "poison" user, every time
        stack.telegram().fail(100_000, 400, REFUSAL, text -> text.contains("poison"));
        String token = server.token("pc-good");
        List<UUID> good = new ArrayList<>();
        List<Long> unindexable = new ArrayList<>();
        List<Long> refusedOnly = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            UUID id = UUID.randomUUID();
            good.add(id);
            var response = server.post(
                    "/api/v1/events",
                    token,
                    new JsonObject()
                            .put(
                                    "events",
                                    new JsonArray()
                                            .add(new JsonObject()
                                                    .put("event_id", id.toString())
                                                    .put("timestamp", String.format("2026-11-27T12:00:%02dZ", i))
                                                    .put("username", "good-" + i)
                                                    .put("process_name", "app.exe")))
                            .encode());
            assertThat(response.statusCode()).isEqualTo(200);
            unindexable.add(poison(UNINDEXABLE.get(i % UNINDEXABLE.size()), "poison-far-" + i));
            if (i % 3 == 0) {
                refusedOnly.add(poison("2026-11-27 12:30:0" + i + "+00", "poison-text-" + i));
            }
            Wait.pause(200);
        }

        String prefix = server.config.elasticsearch().indexPrefix();
        Wait.until("every good event indexed", Duration.ofSeconds(60), () -> {
            stack.es().request("POST", "/" + prefix + "-*/_refresh", null);
            return stack.es().count(prefix + "-*") == good.size() + refusedOnly.size();
        });
        for (int i = 0; i < good.size(); i++) {
            String text = String.format("[2026-11-27 12:00:%02d] Пользователь good-%d запустил app.exe", i, i);
            Wait.until(
                    "good-" + i + " notified in both chats",
                    Duration.ofSeconds(90),
                    () -> stack.telegram().messages().stream()
                                    .filter(m -> m.text().equals(text))
                                    .count()
                            == 2);
        }
        Wait.until("an empty outbox", Duration.ofSeconds(60), () -> stack.db().count("outbox") == 0);

        // each good event: indexed once, one message per chat; no poison text was ever shown as sent
        for (UUID id : good) {
            String query = new JsonObject()
                    .put("query", new JsonObject().put("term", new JsonObject().put("event.id", id.toString())))
                    .encode();
            assertThat(new JsonObject(stack.es().post("/" + prefix + "-*/_count", query)).getLong("count"))
                    .isEqualTo(1L);
        }
        assertThat(stack.telegram().messages()).hasSize(2 * good.size());
        assertThat(stack.telegram().messages()).noneMatch(m -> m.text().contains("poison"));
        // the unindexable rows made no index of their own
        assertThat(stack.es().get("/_cat/indices/" + prefix + "-*?h=index").strip())
                .isEqualTo(prefix + "-2026.11");

        List<Map<String, Object>> dead = stack.db().query("SELECT sink, event_pk, reason FROM dead_letters");
        assertThat(dead.stream().filter(r -> r.get("sink").equals("elasticsearch")))
                .extracting(r -> (Long) r.get("event_pk"))
                .containsExactlyInAnyOrderElementsOf(unindexable);
        assertThat(dead.stream().filter(r -> r.get("sink").equals("elasticsearch")))
                .allSatisfy(r -> assertThat((String) r.get("reason")).contains("outside the years 0000-9999"));
        List<Long> allPoison = new ArrayList<>(unindexable);
        allPoison.addAll(refusedOnly);
        for (long chat : List.of(CHAT_1, CHAT_2)) {
            List<Map<String, Object>> chatDead = dead.stream()
                    .filter(r -> r.get("sink").equals("telegram:" + chat))
                    .toList();
            assertThat(chatDead)
                    .extracting(r -> (Long) r.get("event_pk"))
                    .containsExactlyInAnyOrderElementsOf(allPoison);
            assertThat(chatDead).allSatisfy(r -> assertThat(r.get("reason")).isEqualTo("400 " + REFUSAL));
        }
        assertThat(dead).hasSize(unindexable.size() + 2 * allPoison.size());
    }
}
