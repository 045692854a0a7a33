package io.dozor.agent;

import static io.dozor.agent.FakeProcessSource.process;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AgentTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private TestServer server;
    private final FakeProcessSource source = new FakeProcessSource()
            .start(process(100, 0, "explorer.exe", "ivanov"))
            .start(process(150, 0, "chrome.exe", "ivanov", 100));
    private Agent agent;

    @BeforeEach
    void startAgent() throws Exception {
        server = TestServer.http();
        AgentConfig config = AgentConfig.builder()
                .serverUrl(server.url())
                .token("tok")
                .processes(List.of("chrome", "telegram"))
                .pollInterval(Duration.ofMillis(20))
                .build();
        Clock moscow = Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneId.of("Europe/Moscow"));
        agent = new Agent(config, source, moscow, "PC-01", new InMemoryEventQueue());
        agent.start();
    }

    @AfterEach
    void stop() {
        agent.close();
        server.close();
    }

    @Test
    void reportsALaunchAfterStartWithItsStartTimeUserAndHost() throws Exception {
        source.start(process(200, 5, "Telegram.exe", "CORP\\petrov", 100));

        TestServer.await("the launch", TIMEOUT, () -> !server.requests.isEmpty());

        List<JsonNode> events = server.requests.stream()
                .flatMap(r -> java.util.stream.StreamSupport.stream(
                        r.body().get("events").spliterator(), false))
                .toList();
        assertThat(events).hasSize(1);
        JsonNode event = events.get(0);
        assertThat(event.get("username").asText()).isEqualTo("petrov");
        assertThat(event.get("process_name").asText()).isEqualTo("Telegram.exe");
        assertThat(event.get("pid").asLong()).isEqualTo(200);
        assertThat(event.get("executable").asText()).isEqualTo("C:\\Apps\\Telegram.exe");
        assertThat(event.get("hostname").asText()).isEqualTo("PC-01");
        // FakeProcessSource.T0 + 5 s, in the clock's zone
        assertThat(event.get("timestamp").asText()).isEqualTo("2026-11-27T10:00:05.000+03:00");
        assertThat(event.get("event_id").asText()).hasSize(36);
    }

    @Test
    void doesNotReportWhatRanBeforeStartNorAfterClose() throws Exception {
        source.start(process(300, 7, "chrome.exe", "ivanov", 100));
        TestServer.await("the launch", TIMEOUT, () -> server.requests.size() == 1);

        agent.close();
        source.start(process(301, 8, "chrome.exe", "ivanov", 100));
        Thread.sleep(200); // ten poll intervals

        assertThat(server.receivedEventIds()).hasSize(1);
        assertThat(server.requests.get(0).body().get("events").get(0).get("pid").asLong())
                .isEqualTo(300);
    }

    @Test
    void sendsAHeartbeatWithVersionHostSpoolDepthAndDrops() throws Exception {
        TestServer.await("a heartbeat", TIMEOUT, () -> !server.heartbeats.isEmpty());

        TestServer.Request beat = server.heartbeats.get(0);
        assertThat(beat.header("Authorization")).isEqualTo("Bearer tok");
        assertThat(beat.body().get("version").asText()).isEqualTo(Agent.VERSION);
        assertThat(beat.body().get("hostname").asText()).isEqualTo("PC-01");
        assertThat(beat.body().get("spool_depth").asLong()).isZero();
        assertThat(beat.body().get("dropped_events").asLong()).isZero();
    }
}
