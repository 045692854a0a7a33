package io.dozor.devstack;

import static io.dozor.testkit.FileModes.mode;
import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.ProcessLogs;
import io.dozor.testkit.Wait;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * Verifies the dev stack as a newcomer uses it ({@code ./dozor-dev} runs exactly this class): it starts with
 * its own PostgreSQL and Elasticsearch, reports a launch, stops cleanly, and starts again with the same data
 * in Elasticsearch; a healthy run leaves the warning and error logs of server and agent empty.
 */
@EnabledOnOs(OS.LINUX)
class DevStackTest {
    static final Pattern ES_URL = Pattern.compile("Elasticsearch +(http://\\S+)");
    static final Pattern METRICS_URL = Pattern.compile("metrics +(http://\\S+/metrics)");

    @Test
    void runsStopsAndRestartsWithItsDataAndNoWarnings() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "devstack-test").toAbsolutePath());
        ProcessLogs.deleteRecursively(dir);
        Files.createDirectories(dir);

        Path firstOut = dir.resolve("first.out");
        Process first = start(dir, firstOut);
        String es;
        try {
            es = awaitRunning(first, firstOut);
            assertMetricsServed(Files.readString(firstOut, StandardCharsets.UTF_8));
            Path chrome = dir.resolve("bin/chrome");
            Files.createDirectories(chrome.getParent());
            Files.copy(Path.of("/bin/sleep"), chrome);
            chrome.toFile().setExecutable(true);
            new ProcessBuilder(chrome.toString(), "2").start().waitFor(10, TimeUnit.SECONDS);
            awaitOutput(first, firstOut, "запустил chrome", Duration.ofSeconds(60));
            Wait.until("the launch in Elasticsearch", Duration.ofSeconds(60), () -> count(es) == 1);
        } finally {
            stop(first);
        }
        assertNoWarnings(dir, firstOut);
        assertSecretsArePrivate(dir);
        // a configuration left readable by an older version: rewritten private, not patched after the fact
        Files.setPosixFilePermissions(dir.resolve("server.yaml"), PosixFilePermissions.fromString("rw-r--r--"));

        Path secondOut = dir.resolve("second.out");
        Process second = start(dir, secondOut);
        try {
            String esAgain = awaitRunning(second, secondOut);
            assertThat(count(esAgain))
                    .as("the launch is still indexed after a restart, without a reindex")
                    .isEqualTo(1);
        } finally {
            stop(second);
        }
        assertNoWarnings(dir, secondOut);
        assertSecretsArePrivate(dir);
    }

    /** What holds a secret or the logs is its user's only: files 0600, directories 0700. */
    static void assertSecretsArePrivate(Path dir) throws IOException {
        for (String file : List.of(
                "server.yaml",
                "agent.ini",
                "token-secret",
                "admin-token",
                "tls/server-key.pem",
                "logs/server/dozor-server.json",
                "logs/server/dozor-server-errors.json",
                "logs/agent/dozor-agent.json",
                "logs/agent/dozor-agent-errors.json",
                "spool/spool.db")) {
            assertThat(mode(dir.resolve(file))).as(file).isEqualTo("rw-------");
        }
        for (String folder : List.of("tls", "logs", "logs/server", "logs/agent", "spool")) {
            assertThat(mode(dir.resolve(folder))).as(folder).isEqualTo("rwx------");
        }
    }

    static Process start(Path dir, Path out) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"), "-cp", System.getProperty("java.class.path")));
        String zip = System.getProperty(Elasticsearch.ZIP_PROPERTY);
        if (zip != null && !zip.isBlank()) {
            command.add("-D" + Elasticsearch.ZIP_PROPERTY + "=" + zip);
        }
        command.addAll(List.of(
                DevStack.class.getName(),
                "--dir",
                dir.toString(),
                "--server-jar",
                RunningStack.jar("dozor.server.jar").toString(),
                "--agent-jar",
                RunningStack.jar("dozor.agent.jar").toString(),
                "--watch",
                "chrome",
                "--poll-ms",
                "500"));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(out.toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("DOZOR_"));
        return pb.start();
    }

    /** The banner's metrics URL answers Prometheus text on the ops listener. */
    static void assertMetricsServed(String banner) throws Exception {
        Matcher m = METRICS_URL.matcher(banner);
        assertThat(m.find()).as("the banner names the metrics URL:%n%s", banner).isTrue();
        var response = java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(m.group(1)))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("# HELP dozor_ingest_events_total");
    }

    /** Waits for the banner; returns the Elasticsearch URL it names. */
    static String awaitRunning(Process p, Path out) throws IOException {
        String text = awaitOutput(p, out, "dozor-dev: running", Duration.ofMinutes(4));
        Matcher m = ES_URL.matcher(text);
        assertThat(m.find()).as("the banner names Elasticsearch:%n%s", text).isTrue();
        return m.group(1);
    }

    static String awaitOutput(Process p, Path out, String expected, Duration timeout) throws IOException {
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            String text = Files.readString(out, StandardCharsets.UTF_8);
            if (text.contains(expected)) {
                return text;
            }
            assertThat(p.isAlive())
                    .as("dozor-dev exited before printing '%s':%n%s", expected, text)
                    .isTrue();
            assertThat(Instant.now())
                    .as("'%s' within %s:%n%s", expected, timeout, text)
                    .isBefore(deadline);
            Wait.pause(250);
        }
    }

    static long count(String es) {
        Elasticsearch.Response r = Elasticsearch.external(es).request("GET", "/dozor-events-*/_count", null);
        return r.ok() ? new io.vertx.core.json.JsonObject(r.body()).getLong("count") : -1;
    }

    /** What Ctrl-C does: the dev stack's shutdown (SIGINT and SIGTERM take the same path). */
    static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    static void assertNoWarnings(Path dir, Path out) throws IOException {
        for (Path errors : List.of(
                dir.resolve("logs/server/dozor-server-errors.json"),
                dir.resolve("logs/agent/dozor-agent-errors.json"))) {
            assertThat(errors).exists();
            assertThat(Files.readString(errors)).as(errors.toString()).isEmpty();
        }
        assertThat(Files.readAllLines(out))
                .as("dozor-dev's output")
                .noneMatch(l -> l.matches(".* (WARN|ERROR) .*"))
                .noneMatch(l -> l.contains("Exception"));
    }
}
