package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ops listener's {@code /metrics} of a live server (real PostgreSQL, Elasticsearch, fake Bot API): it passes
 * {@code promtool check metrics}, every {@code dozor_*} family is in docs/metrics.md with its labels, and the
 * operator's series move when their cause happens.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsTest {
    static final String BOT_TOKEN = "4242:METRICS-token";
    static final long CHAT = -1009876543210L;
    static final Duration WAIT = Duration.ofSeconds(30);
    static final Path DOCS = Path.of("..", "docs", "metrics.md");

    @RegisterExtension
    static final ServerStack stack = ServerStack.builder()
            .telegram(BOT_TOKEN, CHAT)
            .env("DOZOR_TELEGRAM_BOT_POLLING", "false")
            .build();

    /** Last, so the series that appear only once their cause happened (the other tests cause them) are there. */
    @Test
    @Order(Integer.MAX_VALUE)
    void scrapePassesPromtoolAndEveryDozorFamilyIsDocumentedWithItsLabels() throws IOException {
        TestServer server = stack.server();
        // a refusal: its status is a label value
        server.post("/api/v1/events", server.token("lint-01"), "{\"events\": []}");
        String scrape = server.ops("/metrics").body();

        Promtool.Result lint = Promtool.run(stack.dir(), scrape, "check", "metrics");
        assertThat(lint.output()).as("promtool check metrics").isBlank();
        assertThat(lint.exitCode()).isZero();

        Map<String, Set<String>> scraped = dozorFamilies(scrape);
        Map<String, Set<String>> documented = documentedFamilies(Files.readString(DOCS));
        assertThat(scraped.keySet())
                .as("dozor_* families in /metrics vs docs/metrics.md")
                .containsExactlyInAnyOrderElementsOf(documented.keySet());
        scraped.forEach((family, labels) -> assertThat(documented.get(family))
                .as("labels of " + family + " in docs/metrics.md")
                .isEqualTo(labels));
        assertThat(scrape)
                .as("no chat id in the metrics")
                .doesNotContain(Long.toString(CHAT))
                .doesNotContain(Long.toString(-CHAT));
    }

    @Test
    void eventsStoredAreCountedByAgentClassNotById() {
        double acc = value("dozor_events_stored_total{agent_class=\"acc\"}");
        double other = value("dozor_events_stored_total{agent_class=\"other\"}");
        TestServer server = stack.server();
        assertThat(server.post("/api/v1/events", server.token("ACC-01"), batch(2))
                        .statusCode())
                .isEqualTo(200);
        assertThat(server.post("/api/v1/events", server.token("acc17"), batch(1))
                        .statusCode())
                .isEqualTo(200);
        assertThat(server.post("/api/v1/events", server.token("7-UP"), batch(1)).statusCode())
                .isEqualTo(200);

        assertThat(value("dozor_events_stored_total{agent_class=\"acc\"}")).isEqualTo(acc + 3);
        assertThat(value("dozor_events_stored_total{agent_class=\"other\"}")).isEqualTo(other + 1);
        assertThat(server.ops("/metrics").body()).doesNotContain("ACC-01").doesNotContain("acc17");
    }

    @Test
    void deadLettersCountBySinkAndReasonAndBulkItemFailuresByStatus() {
        TestServer server = stack.server();
        double rejected = value("dozor_dead_letters_total{reason=\"rejected\",sink=\"elasticsearch\"}");
        double status400 = value("dozor_elasticsearch_bulk_item_failures_total{status=\"400\"}");
        // an index whose mapping the document cannot satisfy: user.name must be a number there
        String index = server.config.elasticsearch().indexPrefix() + "-2002.02";
        stack.createPoisonedIndex(index);
        server.post("/api/v1/events", server.token("pc-dead"), batch("2002-02-02T10:00:00Z", 1));

        Wait.until(
                "the rejected document counted",
                WAIT,
                () -> value("dozor_dead_letters_total{reason=\"rejected\",sink=\"elasticsearch\"}") == rejected + 1);
        assertThat(value("dozor_elasticsearch_bulk_item_failures_total{status=\"400\"}"))
                .isEqualTo(status400 + 1);
        assertThat(stack.db().count("dead_letters WHERE sink = 'elasticsearch'"))
                .isEqualTo(1);
    }

    @Test
    void telegramRefusingTheChatIsADeadLetterOfTheTelegramSink() {
        TestServer server = stack.server();
        double gone = value("dozor_dead_letters_total{reason=\"chat_gone\",sink=\"telegram\"}");
        stack.telegram().block(CHAT);
        try {
            server.post("/api/v1/events", server.token("pc-gone"), batch(1));
            // at least: launches of the other tests still waiting for this chat are parked with it
            Wait.until(
                    "the chat's dead letter counted",
                    WAIT,
                    () -> value("dozor_dead_letters_total{reason=\"chat_gone\",sink=\"telegram\"}") >= gone + 1);
            assertThat(value("dozor_dead_letters_total{reason=\"chat_gone\",sink=\"telegram\"}") - gone)
                    .isEqualTo(stack.db().count("dead_letters WHERE sink LIKE 'telegram:%'"));
        } finally {
            stack.telegram().unblock(CHAT);
        }
    }

    @Test
    void telegram429IsCountedAndItsPauseShown() {
        TestServer server = stack.server();
        double limited = value("dozor_telegram_rate_limited_total");
        stack.telegram().tooManyRequests(1, 5);
        server.post("/api/v1/events", server.token("pc-429"), batch(1));

        Wait.until("the 429 counted", WAIT, () -> value("dozor_telegram_rate_limited_total") == limited + 1);
        assertThat(value("dozor_telegram_pause_seconds")).isGreaterThan(0).isLessThanOrEqualTo(5);
    }

    @Test
    void fleetGaugesCountKnownAndActiveAgentsAndTheSpools() {
        TestServer server = stack.server();
        String busy = server.token("pc-busy");
        String quiet = server.token("pc-quiet");
        assertThat(heartbeat(busy, 12_345, 7)).isEqualTo(204);
        assertThat(heartbeat(quiet, 10, 0)).isEqualTo(204);
        stack.db().execute("UPDATE agents SET last_seen = now() - interval '2 days' WHERE agent_id = 'pc-quiet'");

        Wait.until("the fleet gauges refreshed", WAIT, () -> value("dozor_agent_spool_depth_max") == 12_345);
        long known = stack.db().count("agents");
        long active = stack.db().count("agents WHERE last_seen >= now() - interval '15 minutes'");
        Wait.until(
                "known and active agents",
                WAIT,
                () -> value("dozor_agents_known") == known && value("dozor_agents_active") == active);
        assertThat(known - active).isGreaterThanOrEqualTo(1);
        assertThat(value("dozor_agents_dropped_events")).isEqualTo(7);
    }

    @Test
    void dependenciesAreUpAndReadinessSaysSo() {
        assertThat(stack.server().ops("/readyz").statusCode()).isEqualTo(200);
        assertThat(value("dozor_dependency_up{dependency=\"postgres\"}")).isEqualTo(1);
        assertThat(value("dozor_dependency_up{dependency=\"elasticsearch\"}")).isEqualTo(1);
    }

    @Test
    void aTakenOpsPortFailsTheStartNamingTheListener() throws IOException {
        try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Map<String, String> env = TestServer.env(
                    stack.db().url(),
                    stack.es().url(),
                    DevCertificates.generate(stack.dir().resolve("tls2")),
                    stack.dir().resolve("logs2"));
            env.put("DOZOR_OPS_PORT", Integer.toString(taken.getLocalPort()));
            var config = new io.dozor.server.config.ConfigLoader(env).load(java.util.Optional.empty());
            var vertx = io.vertx.core.Vertx.vertx();
            try {
                org.assertj.core.api.Assertions.assertThatThrownBy(
                                () -> DozorServer.start(vertx, config).await())
                        .hasMessageStartingWith(
                                "ops listener (ops.host, ops.port) 127.0.0.1:" + taken.getLocalPort() + ": ");
            } finally {
                vertx.close().await();
            }
        }
    }

    private static int heartbeat(String token, long spoolDepth, long dropped) {
        return stack.server()
                .post(
                        "/api/v1/heartbeat",
                        token,
                        new JsonObject()
                                .put("version", "0.1.0")
                                .put("hostname", "PC")
                                .put("spool_depth", spoolDepth)
                                .put("dropped_events", dropped)
                                .encode())
                .statusCode();
    }

    private static String batch(int n) {
        return batch("2026-11-27T10:00:00Z", n);
    }

    private static String batch(String time, int n) {
        JsonArray events = new JsonArray();
        for (int i = 0; i < n; i++) {
            events.add(new JsonObject()
                    .put("event_id", UUID.randomUUID().toString())
                    .put("timestamp", time)
                    .put("username", "ivanov")
                    .put("process_name", "chrome.exe")
                    .put("pid", 4312 + i)
                    .put("executable", "C:\\Apps\\chrome.exe")
                    .put("hostname", "PC"));
        }
        return new JsonObject().put("events", events).encode();
    }

    /** The value of one series (name with its labels as Prometheus writes them, sorted); 0 when absent. */
    static double value(String series) {
        return stack.server().metric(series);
    }

    private static final Pattern TYPE = Pattern.compile("^# TYPE (dozor_\\w+) (\\w+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"");

    /** Family name (as in # TYPE) to the label names of its samples, {@code le} of histograms left out. */
    static Map<String, Set<String>> dozorFamilies(String scrape) {
        Map<String, Set<String>> families = new TreeMap<>();
        scrape.lines()
                .map(TYPE::matcher)
                .filter(Matcher::matches)
                .forEach(m -> families.put(m.group(1), new TreeSet<>()));
        for (String line : scrape.lines().filter(l -> l.startsWith("dozor_")).toList()) {
            String name = line.split("[{ ]", 2)[0];
            String family = families.keySet().stream()
                    .filter(f -> name.equals(f) || name.startsWith(f + "_"))
                    .max(java.util.Comparator.comparingInt(String::length))
                    .orElse(name);
            int brace = line.indexOf('{');
            if (brace >= 0) {
                Matcher m = LABEL.matcher(line.substring(brace, line.indexOf('}')));
                while (m.find()) {
                    if (!m.group(1).equals("le")) {
                        families.computeIfAbsent(family, f -> new TreeSet<>()).add(m.group(1));
                    }
                }
            }
        }
        return families;
    }

    /** The docs' table: rows {@code | `dozor_x` | type | labels | ...}, labels as {@code `name`} (or "none"). */
    static Map<String, Set<String>> documentedFamilies(String docs) {
        Map<String, Set<String>> families = new TreeMap<>();
        Pattern row = Pattern.compile("^\\| `(dozor_\\w+)` \\| [^|]+ \\| ([^|]*) \\|.*$");
        Pattern label = Pattern.compile("(?:^|, )`(\\w+)`"); // a name opens the cell or follows ", "; values follow "="
        for (String line : docs.lines().toList()) {
            Matcher m = row.matcher(line);
            if (m.matches()) {
                Set<String> labels = new TreeSet<>();
                Matcher l = label.matcher(m.group(2).trim());
                while (l.find()) {
                    labels.add(l.group(1));
                }
                families.put(m.group(1), labels);
            }
        }
        return families;
    }
}
