package io.dozor.agent;

import static io.dozor.agent.FakeProcessSource.process;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The running agent under its PC's faults (a spool that cannot be written, a wall clock that jumps) and its
 * server's (heartbeats refused).
 */
class AgentFaultsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private TestServer server;
    private final FakeProcessSource source = new FakeProcessSource().start(process(100, 0, "explorer.exe", "ivanov"));
    private Agent agent;

    /** A wall clock the test moves. */
    static final class JumpingClock extends Clock {
        volatile Instant now = Instant.parse("2026-12-02T01:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.ofHours(3);
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @BeforeEach
    void startServer() throws Exception {
        server = TestServer.http();
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        server.close();
    }

    private AgentConfig config() {
        return configWithHeartbeatsEvery(Duration.ofSeconds(1));
    }

    private AgentConfig configWithHeartbeatsEvery(Duration interval) {
        return AgentConfig.builder()
                .serverUrl(server.url())
                .token("tok")
                .processes(List.of("chrome"))
                .pollInterval(Duration.ofMillis(20))
                .heartbeatInterval(interval)
                .build();
    }

    private List<JsonNode> events() {
        return server.requests.stream()
                .flatMap(r -> StreamSupport.stream(r.body().get("events").spliterator(), false))
                .toList();
    }

    @Test
    void aSpoolThatCannotBeWrittenIsReportedInHeartbeatsAndLaunchesAreSentFromMemory() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        EventQueue spool = SqliteSpool.open(notADirectory.resolve("spool"), 1 << 20);
        agent = new Agent(config(), source, Clock.systemUTC(), "PC-01", spool);
        agent.start();

        source.start(process(200, 5, "chrome.exe", "ivanov", 100));

        TestServer.await("the launch, from memory", TIMEOUT, () -> events().size() == 1);
        TestServer.await(
                "a heartbeat saying why",
                TIMEOUT,
                () -> server.heartbeats.stream()
                        .anyMatch(b -> "cannot open"
                                .equals(b.body().path("spool_error").asText(null))));
        JsonNode beat = server.heartbeats.get(server.heartbeats.size() - 1).body();
        assertThat(beat.get("unpersisted_events").asLong()).isZero();
        assertThat(spool.size()).as("delivered: nothing waits").isZero();
    }

    @Test
    void aHealthySpoolIsReportedWithANullError() throws Exception {
        agent = new Agent(config(), source, Clock.systemUTC(), "PC-01", SqliteSpool.open(dir, 1 << 20));
        agent.start();

        TestServer.await("a heartbeat", TIMEOUT, () -> !server.heartbeats.isEmpty());
        JsonNode beat = server.heartbeats.get(0).body();
        assertThat(beat.has("spool_error")).isTrue();
        assertThat(beat.get("spool_error").isNull()).isTrue();
        assertThat(beat.get("unpersisted_events").asLong()).isZero();
    }

    /**
     * Waits are measured on the monotonic clock, and an event's time is its process's start time: the wall
     * clock the agent is given (its zone names the offset) jumping an hour ahead and back changes neither
     * the pace of heartbeats nor the delivery or the time of launches.
     */
    @Test
    void aWallClockJumpOfAnHourNeitherFloodsNorStallsShippingAndHeartbeats() throws Exception {
        JumpingClock wall = new JumpingClock();
        agent = new Agent(config(), source, wall, "PC-01", new InMemoryEventQueue());
        agent.start();
        TestServer.await("a first heartbeat", TIMEOUT, () -> !server.heartbeats.isEmpty());
        long start = System.nanoTime();

        wall.now = wall.now.plus(Duration.ofHours(1));
        source.start(process(201, 10, "chrome.exe", "ivanov", 100));
        TestServer.await("the launch after a jump ahead", TIMEOUT, () -> events().size() == 1);
        wall.now = wall.now.minus(Duration.ofHours(2));
        source.start(process(202, 20, "chrome.exe", "ivanov", 100));
        TestServer.await("the launch after a jump back", TIMEOUT, () -> events().size() == 2);
        int beatsBefore = server.heartbeats.size();
        Thread.sleep(3_000);
        double seconds = (System.nanoTime() - start) / 1e9;

        assertThat(events())
                .extracting(e -> e.get("timestamp").asText())
                .containsExactly("2026-11-27T10:00:10.000+03:00", "2026-11-27T10:00:20.000+03:00");
        int beats = server.heartbeats.size() - beatsBefore;
        assertThat(beats)
                .as("about one a second in %.1f s: neither flooded nor stalled", seconds)
                .isBetween(2, 4);
    }

    /**
     * A server refusing heartbeats (503) gets fewer and fewer
     * of them instead of one per interval; they come at the interval again once it answers, and the agent still
     * stops at once.
     */
    @Test
    void refusedHeartbeatsBackOffAndComeBackToTheIntervalOnceAnswered() throws Exception {
        server.heartbeatStatus = 503;
        agent = new Agent(
                configWithHeartbeatsEvery(Duration.ofMillis(100)),
                source,
                Clock.systemUTC(),
                "PC-01",
                new InMemoryEventQueue());
        agent.start();

        Thread.sleep(3_000);
        int refused = server.heartbeats.size();
        // at a fixed rate: 30; backing off (0.2, 0.4, 0.8, 1 s ± 20 %): 5 or 6
        assertThat(refused).as("heartbeats in 3 s of 503s").isBetween(3, 7);

        server.heartbeatStatus = 204;
        TestServer.await("an answered heartbeat", TIMEOUT, () -> server.heartbeats.size() > refused);
        int first = server.heartbeats.size();
        Thread.sleep(1_000);
        assertThat(server.heartbeats.size() - first)
                .as("about one per 100 ms interval again")
                .isBetween(5, 12);

        long stopping = System.nanoTime();
        agent.close();
        assertThat(Duration.ofNanos(System.nanoTime() - stopping)).isLessThan(Duration.ofSeconds(2));
    }
}
