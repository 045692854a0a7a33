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
 * Elasticsearch: filters, thresholds, cooldowns, quiet hours, digests, limits and failures.
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
  void burstLargerThanDigestAfterBecomesOneDigest() {
    t.env.put("DOZOR_TELEGRAM_DIGEST_AFTER", "5");
    t.start();
    List<String[]> launches = List.of(
        new String[] {"10:15:00", "ivanov", "chrome.exe"}, new String[] {"10:15:30", "petrov", "explorer.exe"},
        new String[] {"10:16:00", "ivanov", "chrome.exe"}, new String[] {"10:16:30", "sidorov", "telegram.exe"},
        new String[] {"10:17:00", "petrov", "explorer.exe"}, new String[] {"10:17:30", "ivanov", "chrome.exe"},
        new String[] {"10:18:00", "sidorov", "telegram.exe"}, new String[] {"10:18:30", "petrov", "explorer.exe"},
        new String[] {"10:19:00", "ivanov", "chrome.exe"}, new String[] {"10:19:30", "sidorov", "telegram.exe"},
        new String[] {"10:20:00", "petrov", "explorer.exe"}, new String[] {"10:20:59", "ivanov", "chrome.exe"});
    t.postLaunches(launches);

    t.awaitDrained();
    assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text).containsExactly(
        "12 запусков за 10:15–10:20: ivanov — chrome.exe ×5, petrov — explorer.exe ×4, sidorov — telegram.exe ×3");
  }

  @Test
  void digestLongerThanTelegramAllowsIsSplitAtTheLimit() {
    t.env.put("DOZOR_TELEGRAM_DIGEST_AFTER", "1");
    t.start();
    List<String[]> launches = new java.util.ArrayList<>();
    for (int i = 0; i < 60; i++) {
      launches.add(new String[] {"10:15:00", "user" + i + "_" + "x".repeat(100), "chrome.exe"});
    }
    t.postLaunches(launches);

    t.awaitDrained();
    var parts = t.telegram.messages();
    assertThat(parts).hasSizeGreaterThan(1);
    assertThat(parts).allSatisfy(p -> assertThat(p.text().length()).isLessThanOrEqualTo(4096));
    String all = String.join(" ", parts.stream().map(FakeTelegram.Sent::text).toList());
    assertThat(all).startsWith("60 запусков за 10:15–10:15: ");
    for (int i = 0; i < 60; i++) {
      assertThat(all).contains("user" + i + "_" + "x".repeat(100) + " — chrome.exe ×1");
    }
  }

  @Test
  void thresholdNotifiesFromTheNthLaunchOfAPairWithinTheWindow() {
    t.env.put("DOZOR_TELEGRAM_THRESHOLD_COUNT", "3");
    t.env.put("DOZOR_TELEGRAM_THRESHOLD_WINDOW", "1m");
    t.start();
    t.postLaunches(List.of(
        new String[] {"10:00:00", "ivanov", "chrome.exe"}, new String[] {"10:00:10", "ivanov", "chrome.exe"},
        new String[] {"10:00:20", "ivanov", "chrome.exe"},
        new String[] {"11:00:00", "petrov", "chrome.exe"}, new String[] {"11:00:50", "petrov", "chrome.exe"},
        new String[] {"11:02:00", "petrov", "chrome.exe"}));

    t.awaitDrained();
    assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text)
        .containsExactly(text("10:00:20", "ivanov", "chrome.exe"));
  }

  @Test
  void cooldownSuppressesRepeatsOfAPairAcrossBatches() {
    t.env.put("DOZOR_TELEGRAM_COOLDOWN", "1m");
    t.start();
    t.postLaunches(List.of(new String[] {"10:00:00", "ivanov", "chrome.exe"},
        new String[] {"10:00:30", "ivanov", "chrome.exe"}, new String[] {"10:00:30", "petrov", "chrome.exe"}));
    t.awaitDrained();
    t.postLaunches(List.of(new String[] {"10:00:59", "ivanov", "chrome.exe"},
        new String[] {"10:01:00", "ivanov", "chrome.exe"}));

    t.awaitDrained();
    assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text).containsExactly(
        text("10:00:00", "ivanov", "chrome.exe"), text("10:00:30", "petrov", "chrome.exe"),
        text("10:01:00", "ivanov", "chrome.exe"));
  }

  @Test
  void quietHoursHoldLaunchesAndReleaseThemAsOneDigest() {
    ZoneId zone = ZoneId.of("Europe/Moscow");
    LocalTime now = LocalTime.now(zone);
    var f = DateTimeFormatter.ofPattern("HH:mm:ss");
    t.env.put("DOZOR_TELEGRAM_QUIET_HOURS", "99=01:00-02:00," + CHAT + "=" + now.minusHours(1).format(f) + "-"
        + now.plusSeconds(8).format(f));
    t.start();
    t.postLaunches(List.of(new String[] {"10:00:00", "ivanov", "chrome.exe"},
        new String[] {"10:01:00", "ivanov", "chrome.exe"}, new String[] {"10:02:00", "petrov", "explorer.exe"}));

    Wait.until("held during quiet hours", DELIVERY, () -> t.db.count("notify_held") == 3);
    assertThat(t.telegram.messages()).isEmpty();
    t.awaitDrained();
    assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text)
        .containsExactly("3 запуска за 10:00–10:02: ivanov — chrome.exe ×2, petrov — explorer.exe ×1");
    assertThat(t.db.count("notify_held")).isZero();
  }

  @Test
  void quietHoursDropLaunchesWhenConfiguredTo() {
    t.env.put("DOZOR_TELEGRAM_QUIET_HOURS", "00:00-23:59:59");
    t.env.put("DOZOR_TELEGRAM_QUIET_ACTION", "drop");
    t.start();
    t.postLaunches(List.<String[]>of(new String[] {"10:00:00", "ivanov", "chrome.exe"}));

    t.awaitDrained();
    assertThat(t.db.count("events")).isEqualTo(1);
    assertThat(t.telegram.attempts()).isEmpty();
  }

  @Test
  void filtersFromYamlApplyAndAreReloadedWithoutRestart() throws Exception {
    Path yaml = dir.resolve("server.yaml");
    Files.writeString(yaml, """
        telegram:
          filters:
            exclude:
              user: ["guest*"]
              host: ["re:^KIOSK-\\\\d+$"]
        """);
    t.start(yaml);
    t.postLaunches(List.of(new String[] {"10:00:00", "Guest1", "chrome.exe"},
        new String[] {"10:00:01", "ivanov", "chrome.exe"}, new String[] {"10:00:02", "SYSTEM", "chrome.exe"},
        new String[] {"10:00:03", "NT AUTHORITY\\LOCAL SERVICE", "explorer.exe"},
        new String[] {"10:00:04", "PC-01$", "explorer.exe"}, new String[] {"10:00:05", "petrov", "svchost.exe"}));
    t.postLaunch("10:00:06", "petrov", "chrome.exe", "KIOSK-7");
    t.awaitDrained();
    assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text)
        .containsExactly(text("10:00:01", "ivanov", "chrome.exe"));

    Files.writeString(yaml, """
        telegram:
          filters:
            include:
              process: [explorer.exe]
            exclude_system: false
        """);
    Thread.sleep(3_000); // the file is checked every second
    t.postLaunches(List.of(new String[] {"10:01:00", "Guest1", "chrome.exe"},
        new String[] {"10:01:01", "SYSTEM", "explorer.exe"}));
    t.awaitDrained();
    assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text).containsExactly(
        text("10:00:01", "ivanov", "chrome.exe"), text("10:01:01", "SYSTEM", "explorer.exe"));

    Files.writeString(yaml, """
        telegram:
          filters:
            include:
              process: ["re:(unclosed"]
        """);
    Thread.sleep(3_000); // the file is checked every second
    t.postLaunches(List.of(new String[] {"10:02:00", "petrov", "explorer.exe"},
        new String[] {"10:02:01", "petrov", "chrome.exe"}));
    t.awaitDrained();
    assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text)
        .as("a bad reload keeps the previous filters").containsExactly(text("10:00:01", "ivanov", "chrome.exe"),
            text("10:01:01", "SYSTEM", "explorer.exe"), text("10:02:00", "petrov", "explorer.exe"));
  }

  @Test
  void a429IsObeyedToTheSecondForThatMessageAndTheOnesBehindIt() {
    t.start();
    String first = text("10:30:00", "smirnov", "chrome.exe");
    t.telegram.tooManyRequests(1, 3, first::equals);
    t.postLaunches(List.of(new String[] {"10:30:00", "smirnov", "chrome.exe"},
        new String[] {"10:30:01", "smirnov", "explorer.exe"}));

    t.awaitDrained();
    var attempts = t.telegram.attempts();
    assertThat(attempts).extracting(FakeTelegram.Attempt::status).containsExactly(429, 200, 200);
    assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text)
        .containsExactly(first, text("10:30:01", "smirnov", "explorer.exe"));
    Duration waited = Duration.between(attempts.get(0).at(), attempts.get(1).at());
    assertThat(waited).isGreaterThanOrEqualTo(Duration.ofSeconds(3)).isLessThan(Duration.ofSeconds(3).plus(DozorServer.OUTBOX_POLL).plusSeconds(1));
  }

  @Test
  void longBotApiOutageThenRecoveryLosesNothingAndSendsEachOnce() {
    t.env.put("DOZOR_TELEGRAM_DIGEST_AFTER", "20");
    t.start();
    t.telegram.outage(true);
    for (int i = 0; i < 6; i++) {
      t.postLaunches(List.<String[]>of(new String[] {"10:40:0" + i, "user" + i, "chrome.exe"}));
    }
    Wait.until("several failed attempts", DELIVERY, () -> t.db.query(
        "SELECT coalesce(max(attempts), 0) AS a FROM outbox WHERE sink = 'telegram:42'").get(0).get("a") instanceof Integer a
        && a >= 3);
    assertThat(t.db.count("outbox WHERE sink = 'telegram:42'")).isEqualTo(6);
    t.telegram.outage(false);

    Wait.until("all delivered", Duration.ofSeconds(60), () -> t.db.count("outbox WHERE sink = 'telegram:42'") == 0);
    assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text).containsExactlyInAnyOrder(
        text("10:40:00", "user0", "chrome.exe"), text("10:40:01", "user1", "chrome.exe"),
        text("10:40:02", "user2", "chrome.exe"), text("10:40:03", "user3", "chrome.exe"),
        text("10:40:04", "user4", "chrome.exe"), text("10:40:05", "user5", "chrome.exe"));
  }

  @Test
  void restartWithAPendingQueueDeliversEveryNotificationOnce() {
    t.start();
    t.telegram.outage(true);
    t.postLaunches(List.of(new String[] {"10:50:00", "ivanov", "chrome.exe"},
        new String[] {"10:50:01", "petrov", "chrome.exe"}));
    Wait.until("a failed attempt", DELIVERY, () -> t.db.count("outbox WHERE sink = 'telegram:42' AND attempts > 0") == 2);
    t.server.close();
    t.telegram.outage(false);

    t.start();
    t.awaitDrained();
    assertThat(t.telegram.messages()).extracting(FakeTelegram.Sent::text).containsExactly(
        text("10:50:00", "ivanov", "chrome.exe"), text("10:50:01", "petrov", "chrome.exe"));
  }

  @Test
  void chatThatBlockedTheBotIsParkedNotRetried() throws Exception {
    t.start();
    t.telegram.block(CHAT);
    t.postLaunches(List.of(new String[] {"11:00:00", "ivanov", "chrome.exe"},
        new String[] {"11:00:01", "petrov", "chrome.exe"}));

    Wait.until("dead-lettered", DELIVERY, () -> t.db.count("dead_letters WHERE sink = 'telegram:42'") == 2);
    Thread.sleep(3_000);
    assertThat(t.telegram.attempts()).hasSize(1);
    assertThat(t.db.count("outbox WHERE sink = 'telegram:42'")).as("not retried").isZero();
    assertThat(t.db.query("SELECT reason FROM dead_letters WHERE sink = 'telegram:42'"))
        .allSatisfy(row -> assertThat((String) row.get("reason")).startsWith("403 Forbidden: bot was blocked"));
  }

  @Test
  void silentAgentIsAnnouncedOnceAndItsReturnOnce() throws Exception {
    t.env.put("DOZOR_TELEGRAM_SILENT_AGENT_AFTER", "2s");
    t.start();
    t.postLaunches(List.<String[]>of(new String[] {"11:10:00", "ivanov", "chrome.exe"}));

    Wait.until("silence announced", DELIVERY, () -> t.sentContaining("Агент pc-01 молчит с").size() == 1);
    Thread.sleep(2_000);
    assertThat(t.sentContaining("молчит")).hasSize(1);
    assertThat(t.server.post("/api/v1/heartbeat", t.token,
        "{\"version\":\"0.1.0\",\"hostname\":\"PC-01\",\"spool_depth\":0,\"dropped_events\":0}").statusCode()).isEqualTo(204);
    Wait.until("return announced", DELIVERY, () -> t.sentContaining("Агент pc-01 (PC-01) снова на связи").size() == 1);
    assertThat(t.sentContaining("молчит с")).hasSize(1);
    assertThat(t.sentContaining("снова на связи").get(0))
        .matches("\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d] Агент pc-01 \\(PC-01\\) снова на связи \\(молчал с .*\\)");
  }

  @Test
  void anAgentWhoseSpoolFailsIsAnnouncedOnceAndItsRecoveryOnce() throws Exception {
    t.start();
    String failing = "{\"version\":\"0.1.0\",\"hostname\":\"PC-01\",\"spool_depth\":4,\"dropped_events\":0,"
        + "\"unpersisted_events\":%d,\"spool_error\":\"disk full\"}";
    assertThat(t.server.post("/api/v1/heartbeat", t.token, failing.formatted(0)).statusCode()).isEqualTo(204);

    Wait.until("the spool error announced", DELIVERY,
        () -> t.sentContaining("Агент pc-01 (PC-01) не может записать очередь: disk full").size() == 1);
    assertThat(t.server.post("/api/v1/heartbeat", t.token, failing.formatted(3)).statusCode()).isEqualTo(204);
    Thread.sleep(3 * DEGRADED_CHECK_MS); // a few checks: the same error is not announced again
    assertThat(t.sentContaining("не может записать очередь")).hasSize(1);

    assertThat(t.server.post("/api/v1/heartbeat", t.token, "{\"version\":\"0.1.0\",\"hostname\":\"PC-01\","
        + "\"spool_depth\":0,\"dropped_events\":0,\"unpersisted_events\":3,\"spool_error\":null}").statusCode())
        .isEqualTo(204);
    Wait.until("the recovery announced", DELIVERY,
        () -> t.sentContaining("Очередь агента pc-01 (PC-01) снова записывается").size() == 1);
    Thread.sleep(3 * DEGRADED_CHECK_MS);
    assertThat(t.sentContaining("снова записывается")).hasSize(1);
    assertThat(t.sentContaining("снова записывается").get(0)).matches("\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d] "
        + "Очередь агента pc-01 \\(PC-01\\) снова записывается \\(ошибка «disk full» с .*\\); потеряно запусков: 3");
    assertThat(t.db.count("agent_spool_alerts")).isZero();
  }

  static final long DEGRADED_CHECK_MS = 2_000;
}
