package io.dozor.agent;

import static io.dozor.agent.FakeProcessSource.process;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent with its durable spool and its settings file, as {@code run} wires it. */
class AgentSpoolTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final FakeProcessSource source = new FakeProcessSource().start(process(100, 0, "explorer.exe", "ivanov"));
    private TestServer server;
    private Agent agent;

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private AgentConfig.Builder config(TestServer server) {
        return AgentConfig.builder()
                .serverUrl(server.url())
                .token("tok")
                .processes(List.of("chrome", "telegram"))
                .pollInterval(Duration.ofMillis(20))
                .spoolDir(dir.resolve("spool"))
                .spoolMaxBytes(1 << 20)
                .heartbeatInterval(Duration.ofMillis(50));
    }

    private Agent start(AgentConfig config) {
        agent = new Agent(config, source, Clock.systemUTC(), "PC-01", Agent.openQueue(config));
        agent.start();
        return agent;
    }

    @Test
    void launchesSpooledWhileTheServerRefusesAreSentAfterARestartAndNotDetectedTwice() throws Exception {
        server = TestServer.http();
        for (int i = 0; i < 1000; i++) {
            server.then(503, null, "{}");
        }
        start(config(server).build());
        source.start(process(200, 5, "chrome.exe", "ivanov", 100));
        source.start(process(201, 6, "telegram.exe", "ivanov", 100));
        TestServer.await("two refused attempts", TIMEOUT, () -> server.requests.size() >= 2);
        agent.close();
        server.close();

        server = TestServer.http();
        start(config(server).build());
        TestServer.await(
                "the spooled launches", TIMEOUT, () -> server.receivedEventIds().size() >= 2);
        TestServer.await(
                "a heartbeat with an empty spool",
                TIMEOUT,
                () -> server.heartbeats.stream()
                        .anyMatch(h -> h.body().get("spool_depth").asLong() == 0));

        assertThat(server.requests)
                .flatExtracting(r -> r.body().findValuesAsText("pid"))
                .containsExactly("200", "201"); // once each: the running ones are the new baseline
    }

    @Test
    void withReportExistingWhatWasReportedBeforeARestartIsNotReportedAgain() throws Exception {
        server = TestServer.http();
        source.start(process(200, 5, "chrome.exe", "ivanov", 100));
        source.start(process(201, 6, "chrome.exe", "petrov", 100));
        AgentConfig config = config(server).reportExisting(true).build();
        start(config);
        TestServer.await(
                "the two running chromes",
                TIMEOUT,
                () -> server.receivedEventIds().size() >= 2);
        agent.close();

        // while the agent was down: 201 exited, 202 started; 200 runs on, its start read 0.3 s off (Linux
        // derives start times from the boot time, which each run measures anew)
        source.exit(200)
                .exit(201)
                .start(new ProcessInfo(
                        200, FakeProcessSource.T0.plusMillis(5300), "chrome.exe", "C:\\chrome.exe", "ivanov", 100))
                .start(process(202, 7, "chrome.exe", "sidorov", 100));
        start(config);
        TestServer.await(
                "the chrome started meanwhile",
                TIMEOUT,
                () -> server.receivedEventIds().size() >= 3);
        agent.close();

        assertThat(server.requests)
                .flatExtracting(r -> r.body().findValuesAsText("pid"))
                .containsExactly("200", "201", "202");
        try (SqliteSpool spool = SqliteSpool.open(dir.resolve("spool"), 1 << 20)) {
            assertThat(spool.reported())
                    .extracting(ProcessInfo.Key::pid)
                    .as("the exited 201 forgotten")
                    .containsExactlyInAnyOrder(200L, 202L);
        }
    }

    @Test
    void theWatchListIsReloadedWhenTheSettingsFileChanges() throws Exception {
        Path ini = startReloading("[monitor]\nprocesses = chrome\n");

        rewrite(ini, "[monitor]\nprocesses = notepad\n");
        Thread.sleep(200); // ten polls: the new list is in place
        source.start(process(300, 5, "chrome.exe", "ivanov", 100));
        source.start(process(301, 5, "notepad.exe", "ivanov", 100));

        TestServer.await(
                "the notepad launch", TIMEOUT, () -> !server.receivedEventIds().isEmpty());
        Thread.sleep(100);
        assertThat(server.requests)
                .flatExtracting(r -> r.body().findValuesAsText("pid"))
                .containsExactly("301");
    }

    @Test
    void anInvalidSettingsFileKeepsThePreviousWatchList() throws Exception {
        Path ini = startReloading("");

        rewrite(ini, "[monitor]\nprocesses = ,\n");
        Thread.sleep(200);
        source.start(process(300, 5, "chrome.exe", "ivanov", 100));

        TestServer.await(
                "the chrome launch", TIMEOUT, () -> !server.receivedEventIds().isEmpty());
    }

    /** An agent watching chrome, reloading its lists from an INI file holding {@code monitor}. */
    private Path startReloading(String monitor) throws Exception {
        server = TestServer.http();
        Path ini = dir.resolve("agent.ini");
        Files.writeString(
                ini, "[server]\nurl = " + server.url() + "\ntoken = tok\nallow_insecure_http = true\n" + monitor);
        agent = new Agent(
                        config(server).processes(List.of("chrome")).build(),
                        source,
                        Clock.systemUTC(),
                        "PC-01",
                        new InMemoryEventQueue())
                .reloadingFrom(ini);
        agent.start();
        return ini;
    }

    /** Rewrites the INI file with a new {@code monitor} part and a later modification time. */
    private void rewrite(Path ini, String monitor) throws Exception {
        Files.writeString(
                ini, "[server]\nurl = " + server.url() + "\ntoken = tok\nallow_insecure_http = true\n" + monitor);
        Files.setLastModifiedTime(ini, FileTime.from(Instant.now().plusSeconds(5)));
    }
}
