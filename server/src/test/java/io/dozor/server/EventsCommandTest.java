package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Verifies {@code dozor-server events}: the launches stored in PostgreSQL, as a table, as JSON, filtered, followed. */
class EventsCommandTest {
    static PostgresDatabase db;
    static Map<String, String> env;

    @BeforeAll
    static void database() {
        db = PostgresDatabase.create();
        env = Map.of(
                "DOZOR_AUTH_TOKEN_SECRET",
                TestServer.SECRET,
                "DOZOR_POSTGRES_URL",
                db.url(),
                "DOZOR_ELASTICSEARCH_URLS",
                "http://127.0.0.1:1",
                "DOZOR_TELEGRAM_TIME_ZONE",
                "Europe/Moscow",
                "DOZOR_LOG_DIR",
                System.getProperty("java.io.tmpdir") + "/dozor-events-test-logs");
        assertThat(MainTest.run(env, "events").status()).isEqualTo(0); // migrates the schema
        insert("2026-11-27T07:15:03Z", "ivanov", "chrome.exe", "pc-01");
        insert("2026-11-27T07:16:00Z", "petrov", "telegram.exe", "pc-02");
        insert("2026-11-27T07:17:00Z", "ivan\u001b[2Jov", "browser.exe", "pc-01");
    }

    @AfterAll
    static void drop() {
        db.close();
    }

    static void insert(String time, String user, String process, String agent) {
        db.execute(
                "INSERT INTO events (event_id, \"timestamp\", username, process_name, agent_id, pid, hostname) VALUES "
                        + "(gen_random_uuid(), '" + time + "', '" + user + "', '" + process + "', '" + agent
                        + "', 42, upper('"
                        + agent + "'))");
    }

    @Test
    void printsTheLatestOldestFirstInTheConfiguredZone() {
        MainTest.Result r = MainTest.run(env, "events");
        assertThat(r.status()).isEqualTo(0);
        assertThat(r.out().lines().toList())
                .satisfiesExactly(
                        header -> assertThat(header)
                                .startsWith("TIME (Europe/Moscow)")
                                .contains("USER", "PROCESS", "AGENT", "HOST"),
                        first -> assertThat(first)
                                .startsWith("2026-11-27 10:15:03")
                                .contains("ivanov", "chrome.exe", "pc-01", "PC-01"),
                        second -> assertThat(second)
                                .startsWith("2026-11-27 10:16:00")
                                .contains("petrov", "telegram.exe"),
                        // what an agent sent cannot clear the operator's screen
                        third -> assertThat(third).contains("ivan\\u001b[2Jov").doesNotContain("\u001b"));
    }

    @Test
    void filtersAndLimitAsAsked() {
        assertThat(MainTest.run(env, "events", "--agent", "pc-01", "--limit", "1")
                        .out()
                        .lines()
                        .skip(1)
                        .toList())
                .singleElement()
                .asString()
                .contains("browser.exe");
        assertThat(MainTest.run(env, "events", "--user", "petrov")
                        .out()
                        .lines()
                        .skip(1)
                        .toList())
                .singleElement()
                .asString()
                .contains("telegram.exe");
        assertThat(MainTest.run(
                                env,
                                "events",
                                "--process",
                                "chrome.exe",
                                "--agent",
                                "pc-01",
                                "--since",
                                "2026-11-27T10:15:03+03:00")
                        .out()
                        .lines()
                        .skip(1)
                        .toList())
                .singleElement()
                .asString()
                .contains("ivanov");
        assertThat(MainTest.run(env, "events", "--agent", "pc-01", "--since", "2026-11-27T07:16:00Z")
                        .out()
                        .lines()
                        .skip(1)
                        .toList())
                .singleElement()
                .asString()
                .contains("browser.exe");
        assertThat(MainTest.run(env, "events", "--since", "1h").out().lines().skip(1))
                .isEmpty();
    }

    @Test
    void jsonLinesCarryTheAdminApiFields() {
        MainTest.Result r = MainTest.run(env, "events", "--json", "--user", "ivanov");
        JsonObject event = new JsonObject(r.out().strip());
        assertThat(event.getString("username")).isEqualTo("ivanov");
        assertThat(event.getString("process_name")).isEqualTo("chrome.exe");
        assertThat(event.getString("agent_id")).isEqualTo("pc-01");
        assertThat(event.getString("hostname")).isEqualTo("PC-01");
        assertThat(OffsetDateTime.parse(event.getString("timestamp")).toInstant())
                .isEqualTo(OffsetDateTime.of(2026, 11, 27, 7, 15, 3, 0, ZoneOffset.UTC)
                        .toInstant());
        assertThat(event.getString("event_id")).hasSize(36);
    }

    @Test
    void badOptionsExit2WithOneLine() {
        for (String[] args : new String[][] {
            {"events", "--limit", "0"},
            {"events", "--limit", "1001"},
            {"events", "--since", "yesterday"},
            {"events", "--limit", "many"}
        }) {
            MainTest.Result r = MainTest.run(env, args);
            assertThat(r.status()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err().lines()).as(String.join(" ", args)).hasSize(1);
            assertThat(r.out()).isEmpty();
        }
    }

    @Test
    void followPrintsWhatIsStoredLater() throws Exception {
        StringWriter out = new StringWriter();
        Thread follower = new Thread(() -> Main.execute(
                new String[] {"events", "--follow", "--user", "sidorov", "--poll", "100ms"},
                env,
                new PrintWriter(out, true),
                new PrintWriter(new StringWriter(), true)));
        follower.start();
        try {
            awaitContains(out, "USER");
            insert("2026-11-27T08:00:00Z", "sidorov", "chrome.exe", "pc-03");
            insert("2026-11-27T08:00:01Z", "kuznetsov", "chrome.exe", "pc-03");
            insert("2026-11-27T08:00:02Z", "sidorov", "explorer.exe", "pc-03");
            awaitContains(out, "explorer.exe");
            assertThat(out.toString().lines().skip(1).toList())
                    .satisfiesExactly(
                            a -> assertThat(a).startsWith("2026-11-27 11:00:00").contains("sidorov", "chrome.exe"),
                            b -> assertThat(b).startsWith("2026-11-27 11:00:02").contains("sidorov", "explorer.exe"));
        } finally {
            follower.interrupt();
            follower.join(TimeUnit.SECONDS.toMillis(10));
        }
        assertThat(follower.isAlive()).isFalse();
    }

    static void awaitContains(StringWriter out, String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!out.toString().contains(text)) {
            assertThat(System.nanoTime())
                    .as("waiting for '%s' in:%n%s", text, out)
                    .isLessThan(deadline);
            Thread.sleep(50);
        }
    }
}
