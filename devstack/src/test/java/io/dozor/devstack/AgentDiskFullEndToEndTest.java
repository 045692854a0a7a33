package io.dozor.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dozor.agent.SqliteSpool;
import io.dozor.testkit.SmallDisk;
import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The real agent and server with the agent's spool on a real 1 MB filesystem (a tmpfs this test mounts as
 * root): the disk fills, launches go on, the disk is freed, launches go on, without a restart of the agent. (At
 * 200 KB the freed room was sometimes not enough for the recovery's write-ahead log: the spool filled again
 * after the disk was freed, which is the disk being full, not the recovery failing.)
 */
@EnabledOnOs(OS.LINUX)
class AgentDiskFullEndToEndTest {
    static final String AGENT_ID = "e2e-agent-disk-full";
    /** Unique per run: other suites' processes never count here, nor this one's for them. */
    static final String PROGRAM = "dfull" + ThreadLocalRandom.current().nextInt(10_000, 99_999);

    static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final RunningStack system = RunningStack.in("agent-disk-full-e2e")
            .agent(AGENT_ID, PROGRAM, 200)
            .agentSetting("server.heartbeat_interval_s", "1")
            .before(AgentDiskFullEndToEndTest::smallDiskAndProgram)
            .after(AgentDiskFullEndToEndTest::unmountAndDelete)
            .build();

    static Path bin;
    static SmallDisk disk;
    static final List<Process> launched = new ArrayList<>();

    /** The agent's spool on a small disk in a new folder, and the program it watches. */
    static void smallDiskAndProgram(Path dir) throws IOException {
        if (Files.exists(dir)) { // a new database each run: the admin token of a previous run is unknown to it
            try (var files = Files.walk(dir)) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
        disk = SmallDisk.mountOrSkip(dir.resolve("stack/spool"), 1024, reason -> assumeTrue(false, reason));
        bin = Files.createTempDirectory(
                "dozor-disk-full-bin",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.copy(Path.of("/bin/sleep"), bin.resolve(PROGRAM));
    }

    @AfterAll
    static void stopPrograms() {
        launched.forEach(Process::destroyForcibly);
    }

    static void unmountAndDelete() throws IOException {
        if (disk != null) {
            disk.close();
        }
        if (bin != null) {
            Files.deleteIfExists(bin.resolve(PROGRAM));
            Files.deleteIfExists(bin);
        }
    }

    static List<Long> launch(int count) throws IOException {
        List<Long> pids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Process p = new ProcessBuilder(bin.resolve(PROGRAM).toString(), "300")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            launched.add(p);
            pids.add(p.pid());
        }
        return pids;
    }

    static List<Long> rows() {
        return system.db().query("SELECT pid FROM events WHERE process_name = $1", PROGRAM).stream()
                .map(r -> ((Number) r.get("pid")).longValue())
                .toList();
    }

    static String agentLog() {
        try {
            return Files.readString(system.stack().agentLog(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static boolean detected(List<Long> pids) {
        String log = agentLog();
        return pids.stream().allMatch(pid -> log.contains("process=" + PROGRAM + ", pid=" + pid + ","));
    }

    /** This agent as {@code GET /api/v1/agents} shows it. */
    static JsonObject agentShown() {
        Stack stack = system.stack();
        try {
            HttpClient http =
                    HttpClient.newBuilder().sslContext(stack.clientTls()).build();
            String admin = Files.readString(stack.adminTokenFile()).trim();
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create("https://localhost:" + stack.port() + "/api/v1/agents"))
                            .header("Authorization", "Bearer " + admin)
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return new JsonObject(response.body())
                    .getJsonArray("agents").stream()
                            .map(a -> (JsonObject) a)
                            .filter(a -> AGENT_ID.equals(a.getString("agent_id")))
                            .findFirst()
                            .orElse(new JsonObject());
        } catch (IOException e) {
            return new JsonObject();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static long warningsSince(long offset) {
        String log = agentLog();
        return log.substring((int) Math.min(offset, log.length()))
                .lines()
                .filter(l -> l.contains("\"log.level\":\"WARN\"") || l.contains("\"log.level\":\"ERROR\""))
                .count();
    }

    @Test
    void aFullDiskLosesOnlyWhatMemoryCannotHoldAndTheSpoolRecoversWithoutARestart() throws Exception {
        Stack stack = system.stack();
        Wait.until(
                "a healthy heartbeat",
                TIMEOUT,
                () -> agentShown().containsKey("spool_error") && agentShown().getString("spool_error") == null);
        long logBefore = agentLog().length();

        disk.fill();
        // the server answers: launches the spool cannot hold are sent from memory at once
        List<Long> whileFull = launch(3);
        Wait.until(
                "the launches made while the disk is full",
                TIMEOUT,
                () -> new HashSet<>(rows()).containsAll(whileFull));
        Wait.until(
                "the agents API showing the spool error",
                TIMEOUT,
                () -> "disk full".equals(agentShown().getString("spool_error")));

        // the server is down as well: memory holds what it can, the rest is lost and counted
        stack.stopServer();
        int overflow = 5;
        List<Long> whileDown = launch(SqliteSpool.MEMORY_EVENTS + overflow);
        Wait.until("every launch detected", TIMEOUT, () -> detected(whileDown));
        long warnings = warningsSince(logBefore);

        disk.free();
        Wait.until(
                "the spool working again",
                TIMEOUT,
                () -> agentLog().substring((int) logBefore).contains("spool works again"));
        stack.restartServer();
        List<Long> after = launch(2);

        Wait.until(
                "every launch kept, and the agent reporting a working spool",
                Duration.ofSeconds(120),
                () -> rows().size() >= whileFull.size() + SqliteSpool.MEMORY_EVENTS + after.size()
                        && agentShown().containsKey("spool_error")
                        && agentShown().getString("spool_error") == null
                        && agentShown().getLong("unpersisted_events", -1L) == overflow);
        Thread.sleep(1000); // a few polls and sends more: nothing else arrives

        List<Long> rows = rows();
        assertThat(rows).as("each launch stored once").doesNotHaveDuplicates();
        assertThat(rows).hasSize(whileFull.size() + SqliteSpool.MEMORY_EVENTS + after.size());
        assertThat(rows).containsAll(whileFull).containsAll(after);
        assertThat(rows.stream().filter(whileDown::contains).count())
                .as(
                        "of the launches made while the disk was full and the server down, all but the %d memory could not hold",
                        overflow)
                .isEqualTo(SqliteSpool.MEMORY_EVENTS);
        assertThat(agentShown().getLong("unpersisted_events")).isEqualTo(overflow);
        assertThat(warnings)
                .as("warnings while the disk was full: a handful, not one per launch or poll")
                .isBetween(1L, 6L);
    }
}
