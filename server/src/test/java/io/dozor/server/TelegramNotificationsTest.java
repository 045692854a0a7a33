package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.FakeTelegram;
import io.dozor.testkit.Wait;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verifies delivery to Telegram against the fake Bot API, on a real server with real PostgreSQL and
 * Elasticsearch: the wiring of the rules (each rule itself is in notify.NotifyCoreTest, their SQL in
 * notify.NotifyStoreTest), Telegram's limits and failures, restarts, and the agent alerts.
 */
class TelegramNotificationsTest {
    static final long CHAT = 42L;
    static final Duration DELIVERY = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    TestSupport t;

    @BeforeEach
    void setUp() {
        t = new TestSupport(dir, List.of(CHAT));
    }

    @AfterEach
    void tearDown() {
        t.close();
    }

    static String text(String time, String user, String process) {
        return "[2026-11-27 " + time + "] Пользователь " + user + " запустил " + process;
    }

    @Test
    void cooldownSuppressesRepeatsOfAPairAcrossBatches() {
        t.env.put("DOZOR_TELEGRAM_COOLDOWN", "1m");
        t.start();
        t.postLaunches(List.of(
                new String[] {"10:00:00", "ivanov", "chrome.exe"},
                new String[] {"10:00:30", "ivanov", "chrome.exe"},
                new String[] {"10:00:30", "petrov", "chrome.exe"}));
        t.awaitDrained();
        t.postLaunches(List.of(
                new String[] {"10:00:59", "ivanov", "chrome.exe"}, new String[] {"10:01:00", "ivanov", "chrome.exe"}));

        t.awaitDrained();
        assertThat(t.telegram.messages())
                .extracting(FakeTelegram.Sent::text)
                .containsExactly(
                        text("10:00:00", "ivanov", "chrome.exe"),
                        text("10:00:30", "petrov", "chrome.exe"),
                        text("10:01:00", "ivanov", "chrome.exe"));
    }

    @Test
    void quietHoursHoldLaunchesAndReleaseThemAsOneDigest() {
        ZoneId zone = ZoneId.of("Europe/Moscow");
        LocalTime now = LocalTime.now(zone);
        var f = DateTimeFormatter.ofPattern("HH:mm:ss");
        t.env.put(
                "DOZOR_TELEGRAM_QUIET_HOURS",
                "99=01:00-02:00," + CHAT + "=" + now.minusHours(1).format(f) + "-"
                        + now.plusSeconds(25)
                                .format(f)); // the window must outlast the server's start on a loaded machine (9 s
        // seen)
        t.start();
        t.postLaunches(List.of(
                new String[] {"10:00:00", "ivanov", "chrome.exe"},
                new String[] {"10:01:00", "ivanov", "chrome.exe"},
                new String[] {"10:02:00", "petrov", "explorer.exe"}));

        Wait.until("held during quiet hours", DELIVERY, () -> t.db.count("notify_held") == 3);
        assertThat(t.telegram.messages()).isEmpty();
        t.awaitDrained();
        assertThat(t.telegram.messages())
                .extracting(FakeTelegram.Sent::text)
                .containsExactly("3 запуска за 10:00–10:02: ivanov — chrome.exe ×2, petrov — explorer.exe ×1");
        assertThat(t.db.count("notify_held")).isZero();
    }

    /** The rules themselves, and the reload, are in NotifyCoreTest and FiltersWatcherTest. */
    @Test
    void filtersFromYamlApply() throws Exception {
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, """
        telegram:
          filters:
            exclude:
              user: ["guest*"]
              host: ["re:^KIOSK-\\\\d+$"]
        """);
        t.start(yaml);
        t.postLaunches(List.of(
                new String[] {"10:00:00", "Guest1", "chrome.exe"},
                new String[] {"10:00:01", "ivanov", "chrome.exe"},
                new String[] {"10:00:02", "SYSTEM", "chrome.exe"},
                new String[] {"10:00:03", "NT AUTHORITY\\LOCAL SERVICE", "explorer.exe"},
                new String[] {"10:00:04", "PC-01$", "explorer.exe"},
                new String[] {"10:00:05", "petrov", "svchost.exe"}));
        t.postLaunch("10:00:06", "petrov", "chrome.exe", "KIOSK-7");
        t.awaitDrained();
        assertThat(t.telegram.messages())
                .extracting(FakeTelegram.Sent::text)
                .containsExactly(text("10:00:01", "ivanov", "chrome.exe"));
    }

    @Test
    void a429IsObeyedToTheSecondForThatMessageAndTheOnesBehindIt() {
        t.start();
        String first = text("10:30:00", "smirnov", "chrome.exe");
        t.telegram.tooManyRequests(1, 3, first::equals);
        t.postLaunches(List.of(
                new String[] {"10:30:00", "smirnov", "chrome.exe"},
                new String[] {"10:30:01", "smirnov", "explorer.exe"}));

        t.awaitDrained();
        var attempts = t.telegram.attempts();
        assertThat(attempts).extracting(FakeTelegram.Attempt::status).containsExactly(429, 200, 200);
        assertThat(t.telegram.messages())
                .extracting(FakeTelegram.Sent::text)
                .containsExactly(first, text("10:30:01", "smirnov", "explorer.exe"));
        Duration waited = Duration.between(attempts.get(0).at(), attempts.get(1).at());
        assertThat(waited)
                .isGreaterThanOrEqualTo(Duration.ofSeconds(3))
                .isLessThan(Duration.ofSeconds(3).plus(DozorServer.OUTBOX_POLL).plusSeconds(1));
    }

    @Test
    void longBotApiOutageThenRecoveryLosesNothingAndSendsEachOnce() {
        t.env.put("DOZOR_TELEGRAM_DIGEST_AFTER", "20");
        t.start();
        t.telegram.outage(true);
        for (int i = 0; i < 6; i++) {
            t.postLaunches(List.<String[]>of(new String[] {"10:40:0" + i, "user" + i, "chrome.exe"}));
        }
        Wait.until(
                "several failed attempts",
                DELIVERY,
                () -> t.db.query("SELECT coalesce(max(attempts), 0) AS a FROM outbox WHERE sink = 'telegram:42'")
                                        .get(0)
                                        .get("a")
                                instanceof Integer a
                        && a >= 3);
        assertThat(t.db.count("outbox WHERE sink = 'telegram:42'")).isEqualTo(6);
        t.telegram.outage(false);

        Wait.until("all delivered", Duration.ofSeconds(60), () -> t.db.count("outbox WHERE sink = 'telegram:42'") == 0);
        assertThat(t.telegram.messages())
                .extracting(FakeTelegram.Sent::text)
                .containsExactlyInAnyOrder(
                        text("10:40:00", "user0", "chrome.exe"), text("10:40:01", "user1", "chrome.exe"),
                        text("10:40:02", "user2", "chrome.exe"), text("10:40:03", "user3", "chrome.exe"),
                        text("10:40:04", "user4", "chrome.exe"), text("10:40:05", "user5", "chrome.exe"));
    }

    @Test
    void restartWithAPendingQueueDeliversEveryNotificationOnce() {
        t.start();
        t.telegram.outage(true);
        t.postLaunches(List.of(
                new String[] {"10:50:00", "ivanov", "chrome.exe"}, new String[] {"10:50:01", "petrov", "chrome.exe"}));
        Wait.until(
                "a failed attempt",
                DELIVERY,
                () -> t.db.count("outbox WHERE sink = 'telegram:42' AND attempts > 0") == 2);
        t.server.close();
        t.telegram.outage(false);

        t.start();
        t.awaitDrained();
        // once each; not in order: each retried row has its own jittered backoff, so either may come due first
        assertThat(t.telegram.messages())
                .extracting(FakeTelegram.Sent::text)
                .containsExactlyInAnyOrder(
                        text("10:50:00", "ivanov", "chrome.exe"), text("10:50:01", "petrov", "chrome.exe"));
    }

    @Test
    void silentAgentIsAnnouncedOnceAndItsReturnOnce() throws Exception {
        t.env.put("DOZOR_TELEGRAM_SILENT_AGENT_AFTER", "2s");
        t.start();
        t.postLaunches(List.<String[]>of(new String[] {"11:10:00", "ivanov", "chrome.exe"}));

        Wait.until(
                "silence announced",
                DELIVERY,
                () -> t.sentContaining("Агент pc-01 молчит с").size() == 1);
        Thread.sleep(2_000);
        assertThat(t.sentContaining("молчит")).hasSize(1);
        assertThat(t.server
                        .post(
                                "/api/v1/heartbeat",
                                t.token,
                                "{\"version\":\"0.1.0\",\"hostname\":\"PC-01\",\"spool_depth\":0,\"dropped_events\":0}")
                        .statusCode())
                .isEqualTo(204);
        Wait.until(
                "return announced",
                DELIVERY,
                () -> t.sentContaining("Агент pc-01 (PC-01) снова на связи").size() == 1);
        assertThat(t.sentContaining("молчит с")).hasSize(1);
        assertThat(t.sentContaining("снова на связи").get(0))
                .matches(
                        "\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d] Агент pc-01 \\(PC-01\\) снова на связи \\(молчал с .*\\)");
    }

    @Test
    void anAgentWhoseSpoolFailsIsAnnouncedOnceAndItsRecoveryOnce() throws Exception {
        t.start();
        String failing = "{\"version\":\"0.1.0\",\"hostname\":\"PC-01\",\"spool_depth\":4,\"dropped_events\":0,"
                + "\"unpersisted_events\":%d,\"spool_error\":\"disk full\"}";
        assertThat(t.server
                        .post("/api/v1/heartbeat", t.token, failing.formatted(0))
                        .statusCode())
                .isEqualTo(204);

        Wait.until(
                "the spool error announced",
                DELIVERY,
                () -> t.sentContaining("Агент pc-01 (PC-01) не может записать очередь: disk full")
                                .size()
                        == 1);
        assertThat(t.server
                        .post("/api/v1/heartbeat", t.token, failing.formatted(3))
                        .statusCode())
                .isEqualTo(204);
        Thread.sleep(3 * DEGRADED_CHECK_MS); // a few checks: the same error is not announced again
        assertThat(t.sentContaining("не может записать очередь")).hasSize(1);

        assertThat(t.server
                        .post(
                                "/api/v1/heartbeat",
                                t.token,
                                "{\"version\":\"0.1.0\",\"hostname\":\"PC-01\","
                                        + "\"spool_depth\":0,\"dropped_events\":0,\"unpersisted_events\":3,\"spool_error\":null}")
                        .statusCode())
                .isEqualTo(204);
        Wait.until(
                "the recovery announced",
                DELIVERY,
                () -> t.sentContaining("Очередь агента pc-01 (PC-01) снова записывается")
                                .size()
                        == 1);
        Thread.sleep(3 * DEGRADED_CHECK_MS);
        assertThat(t.sentContaining("снова записывается")).hasSize(1);
        assertThat(t.sentContaining("снова записывается").get(0))
                .matches(
                        "\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d] "
                                + "Очередь агента pc-01 \\(PC-01\\) снова записывается \\(ошибка «disk full» с .*\\); потеряно запусков: 3");
        assertThat(t.db.count("agent_spool_alerts")).isZero();
    }

    static final long DEGRADED_CHECK_MS = 2_000;
}
