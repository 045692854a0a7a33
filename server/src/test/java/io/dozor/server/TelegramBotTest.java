package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.FakeTelegram;
import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verifies the two-way bot against the fake Bot API: long polling, commands, who may command, mutes. */
class TelegramBotTest {
    static final long CHAT = 42L;
    static final long ADMIN = 7L;
    static final Duration ANSWER = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    TestSupport t;

    @BeforeEach
    void setUp() {
        t = new TestSupport(dir, List.of(CHAT));
        t.env.put("DOZOR_TELEGRAM_ADMIN_USER_IDS", String.valueOf(ADMIN));
        t.start();
    }

    @AfterEach
    void tearDown() {
        t.close();
    }

    /** Sends a command as the admin and waits for the bot's answer in that chat. */
    String ask(String command) {
        int before = t.telegram.messages().size();
        t.telegram.addMessage(CHAT, ADMIN, command);
        Wait.until(
                "an answer to " + command, ANSWER, () -> t.telegram.messages().size() > before);
        return t.telegram.messages().get(before).text();
    }

    @Test
    void commandsAreRegisteredAndAnsweredInTheConfiguredChat() {
        Wait.until(
                "setMyCommands", ANSWER, () -> !t.telegram.registeredCommands().isEmpty());
        assertThat(t.telegram.registeredCommands().stream().map(c -> ((JsonObject) c).getString("command")))
                .containsExactly("status", "mute", "unmute", "mutes", "help");

        assertThat(ask("/help")).contains("/status", "/mute", "/unmute", "/mutes");
        t.postLaunches(List.<String[]>of(new String[] {"10:00:00", "ivanov", "chrome.exe"}));
        t.awaitDrained();
        String status = ask("/status@dozor_test_bot");
        assertThat(status)
                .startsWith("Dozor работает ")
                .contains("PostgreSQL: ok")
                .containsPattern("Elasticsearch: (green|yellow)")
                .contains("Агенты: 1 на связи, 0 молчат")
                .contains("✅ pc-01 — последний контакт ");
        assertThat(ask("/mute 5x")).startsWith("Не понимаю длительность");
        assertThat(ask("/frobnicate")).startsWith("Неизвестная команда /frobnicate");
        Wait.until(
                "the offset saved after handling the last update",
                ANSWER,
                () -> Long.valueOf(5L)
                        .equals(t.db.query("SELECT value FROM bot_state WHERE key = 'updates_offset'")
                                .get(0)
                                .get("value")));
    }

    @Test
    void statusListsTheAgentsWhoseSpoolFails() {
        assertThat(t.server
                        .post(
                                "/api/v1/heartbeat",
                                t.token,
                                "{\"version\":\"0.1.0\",\"hostname\":\"PC-01\","
                                        + "\"spool_depth\":4,\"dropped_events\":0,\"unpersisted_events\":2,\"spool_error\":\"disk full\"}")
                        .statusCode())
                .isEqualTo(204);
        Wait.until(
                "the spool alert",
                ANSWER,
                () -> !t.sentContaining("не может записать очередь").isEmpty());

        assertThat(ask("/status"))
                .contains("Очередь агента не записывается: 1\n  💾 pc-01 (PC-01) — disk full, потеряно запусков: 2");
    }

    @Test
    void muteSilencesMatchingLaunchesSurvivesRestartAndUnmuteEndsIt() {
        assertThat(ask("/mute 2h chrome")).startsWith("Заглушено: chrome на 2h, до ");
        assertThat(ask("/mutes")).startsWith("Заглушки:\n• chrome — до ");
        t.server.close();
        t.start();

        t.postLaunches(List.of(
                new String[] {"10:00:00", "ivanov", "chrome.exe"},
                new String[] {"10:00:01", "ivanov", "explorer.exe"}));
        t.awaitDrained();
        assertThat(t.sentContaining("Пользователь"))
                .containsExactly("[2026-11-27 10:00:01] Пользователь ivanov запустил explorer.exe");

        assertThat(ask("/unmute chrome")).isEqualTo("Снято заглушек: 1");
        assertThat(ask("/mute")).startsWith("Заглушено: всё на 1h");
        t.postLaunches(List.<String[]>of(new String[] {"10:00:02", "petrov", "telegram.exe"}));
        t.awaitDrained();
        assertThat(ask("/unmute")).isEqualTo("Снято заглушек: 1");
        t.postLaunches(List.<String[]>of(new String[] {"10:00:03", "petrov", "chrome.exe"}));
        t.awaitDrained();
        assertThat(t.sentContaining("Пользователь"))
                .containsExactly(
                        "[2026-11-27 10:00:01] Пользователь ivanov запустил explorer.exe",
                        "[2026-11-27 10:00:03] Пользователь petrov запустил chrome.exe");
    }

    @Test
    void strangersAndMalformedUpdatesChangeNothing() {
        t.telegram.addMessage(999L, ADMIN, "/mute");
        t.telegram.addMessage(CHAT, 12345L, "/mute");
        t.telegram.addUpdate(new JsonObject().put("message", "not an object"));
        t.telegram.addUpdate(new JsonObject()
                .put(
                        "message",
                        new JsonObject()
                                .put("chat", new JsonObject().put("id", "x"))
                                .put("text", "/mute")));
        t.telegram.addUpdate(new JsonObject()
                .put(
                        "message",
                        new JsonObject()
                                .put("chat", new JsonObject().put("id", CHAT))
                                .put("from", new JsonObject().put("id", ADMIN))
                                .put("text", 42)));
        t.telegram.addUpdate(new JsonObject().put("edited_message", new JsonObject()));
        t.telegram.addMessage(CHAT, ADMIN, "just chatting, not a command");

        assertThat(ask("/mutes")).as("the bot is alive after all of that").isEqualTo("Заглушек нет.");
        assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text).containsExactly("Заглушек нет.");
        assertThat(t.db.count("notify_mutes")).isZero();
    }
}
