package io.dozor.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.FakeTelegram;
import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Verifies the whole path with the built jars as separate processes: a program named chrome starts
 * on this machine → the agent sees it → HTTPS → server → PostgreSQL, Elasticsearch, Telegram (fake
 * Bot API). Exactly one of each, with the right user, process, agent and start time.
 */
@EnabledOnOs(OS.LINUX)
class EndToEndTest {
    static final String BOT_TOKEN = "777:E2E";
    static final long CHAT = 5150L;
    static final String ZONE = "Europe/Moscow";
    static final String AGENT_ID = "e2e-agent";

    static final String INDEX_PREFIX = "dozor-events";

    @RegisterExtension
    static final RunningStack system = RunningStack.in("e2e")
            .telegram(BOT_TOKEN, CHAT)
            .timeZone(ZONE)
            .agent(AGENT_ID, "chrome, browser, telegram, explorer", 500)
            .build();

    /** A copy of a system binary under another name: the agent sees a program of that name. */
    static Process launch(String name) throws IOException {
        Path bin = system.dir().resolve("bin");
        Files.createDirectories(bin);
        Path exe = bin.resolve(name);
        if (!Files.exists(exe)) {
            Files.copy(Path.of("/bin/sleep"), exe);
            exe.toFile().setExecutable(true, false);
        }
        return new ProcessBuilder(exe.toString(), "60").start();
    }

    @Test
    void aChromeLaunchBecomesOneRowOneDocumentAndOneMessage() throws Exception {
        Process unwatched = launch("notepad");
        Instant started = Instant.now();
        Process chrome = launch("chrome");
        try {
            Wait.until(
                    "a row for chrome pid " + chrome.pid(),
                    Duration.ofSeconds(30),
                    () -> !rows("process_name = 'chrome'").isEmpty());

            var rows = rows("process_name = 'chrome'");
            assertThat(rows).hasSize(1);
            Map<String, Object> row = rows.get(0);
            assertThat(row)
                    .containsEntry("username", System.getProperty("user.name"))
                    .containsEntry("agent_id", AGENT_ID)
                    .containsEntry("pid", chrome.pid());
            OffsetDateTime launchedAt = (OffsetDateTime) row.get("timestamp");
            assertThat(Duration.between(started, launchedAt.toInstant()).abs()).isLessThan(Duration.ofSeconds(1));
            // notepad started before chrome, so the poll that saw chrome saw notepad too: nothing for it
            assertThat(rows("process_name = 'notepad'")).isEmpty();

            String eventId = row.get("event_id").toString();
            // other tests of this JVM share the ES node and index prefix: look for this event's document
            String query = new JsonObject()
                    .put("query", new JsonObject().put("term", new JsonObject().put("process.name", "chrome")))
                    .encode();
            String byId = new JsonObject()
                    .put("query", new JsonObject().put("term", new JsonObject().put("event.id", eventId)))
                    .encode();
            Wait.until("the document in Elasticsearch", Duration.ofSeconds(30), () -> {
                system.es().request("POST", "/" + INDEX_PREFIX + "-*/_refresh", null);
                return new JsonObject(system.es().post("/" + INDEX_PREFIX + "-*/_count", byId)).getLong("count") == 1;
            });
            Instant indexed = Instant.now();
            var hits = new JsonObject(system.es().post("/" + INDEX_PREFIX + "-*/_search", query)).getJsonObject("hits");
            assertThat(hits.getJsonObject("total").getLong("value")).isEqualTo(1L);
            var doc = hits.getJsonArray("hits").getJsonObject(0);
            assertThat(doc.getString("_id")).isEqualTo(eventId);
            assertThat(doc.getJsonObject("_source").getJsonObject("agent").getString("id"))
                    .isEqualTo(AGENT_ID);

            String text = "["
                    + launchedAt
                            .atZoneSameInstant(ZoneId.of(ZONE))
                            .format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"))
                    + "] Пользователь "
                    + System.getProperty("user.name") + " запустил chrome";
            List<FakeTelegram.Sent> messages = system.telegram().awaitMessages(1, Duration.ofSeconds(30));
            assertThat(messages).extracting(FakeTelegram.Sent::text).containsExactly(text);
            assertThat(messages.get(0).chatId()).isEqualTo(CHAT);

            // a few more polls must not repeat the launch, nor invent one for notepad
            Instant later = Instant.now().plusSeconds(2);
            Wait.until(
                    "two more polls", Duration.ofSeconds(5), () -> Instant.now().isAfter(later));
            assertThat(rows("true")).hasSize(1);
            assertThat(system.telegram().messages()).hasSize(1);
            assertThat(system.stack().isRunning()).isTrue();

            Instant committed = ((OffsetDateTime) system.db()
                            .query("SELECT received_at FROM events")
                            .get(0)
                            .get("received_at"))
                    .toInstant();
            String timings = String.format(
                    "end-to-end timings from process start (agent poll 500 ms): "
                            + "PostgreSQL commit %d ms, Telegram message received %d ms, Elasticsearch document searchable "
                            + "within %d ms (polled)%n",
                    Duration.between(started, committed).toMillis(),
                    Duration.between(started, messages.get(0).at()).toMillis(),
                    Duration.between(started, indexed).toMillis());
            System.out.print(timings);
            Files.writeString(Path.of("target", "e2e-timings.txt"), timings);
        } finally {
            chrome.destroy();
            unwatched.destroy();
        }
    }

    static List<Map<String, Object>> rows(String where) {
        return system.db()
                .query("SELECT event_id, \"timestamp\", username, process_name, agent_id, pid FROM events WHERE "
                        + where);
    }
}
