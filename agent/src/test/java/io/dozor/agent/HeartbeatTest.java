package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The heartbeat's pace against a real local server answering as scripted; the ticker is moved by hand (by the
 * server while it answers: the request took that long), so every wait is exact. Jitter is pinned at its middle
 * unless a test says otherwise.
 */
class HeartbeatTest {

    private static final Duration MINUTE = Duration.ofSeconds(60);
    private static final Heartbeat.Report REPORT = new Heartbeat.Report("0.1.0", "PC-01", 0, 0, 0, null);

    private final AtomicLong nanos = new AtomicLong();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    private TestServer server() throws Exception {
        TestServer server = TestServer.http();
        toClose.add(server);
        return server;
    }

    private Heartbeat heartbeat(URI url, Duration interval, DoubleSupplier random, Supplier<Heartbeat.Report> report) {
        return new Heartbeat(new ServerClient(url, "tok", null), report, interval, nanos::get, random);
    }

    private Heartbeat heartbeat(URI url, Duration interval) {
        return heartbeat(url, interval, () -> 0.5, () -> REPORT);
    }

    private static List<Long> seconds(Heartbeat heartbeat, int beats) {
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < beats; i++) {
            waits.add(heartbeat.beat().toSeconds());
        }
        return waits;
    }

    /** A port nothing listens on: the connection is refused at once. */
    private static URI nobody() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return URI.create("http://127.0.0.1:" + s.getLocalPort());
        }
    }

    @Test
    void answeredHeartbeatsComeEveryIntervalCountedFromTheStartOfTheLastOne() throws Exception {
        TestServer server = server();
        Heartbeat heartbeat = heartbeat(server.url(), MINUTE);
        server.onHeartbeat = () -> nanos.addAndGet(Duration.ofSeconds(3).toNanos());

        assertThat(heartbeat.beat()).as("the request took 3 s").isEqualTo(Duration.ofSeconds(57));

        server.onHeartbeat = () -> nanos.addAndGet(Duration.ofSeconds(70).toNanos());
        assertThat(heartbeat.beat())
                .as("longer than the interval: the next one at once")
                .isZero();
        assertThat(server.heartbeats).hasSize(2);
    }

    @Test
    void refusalsBackOffDoublingUpToTenIntervalsAndAnAnswerBringsTheIntervalBack() throws Exception {
        TestServer server = server();
        for (int i = 0; i < 6; i++) {
            server.thenHeartbeat(503, null);
        }
        server.thenHeartbeat(204, null).thenHeartbeat(500, null);
        Heartbeat heartbeat = heartbeat(server.url(), MINUTE);

        assertThat(seconds(heartbeat, 8)).containsExactly(120L, 240L, 480L, 600L, 600L, 600L, 60L, 120L);
    }

    @Test
    void retryAfterIsALowerBoundOnTheBackoffOfAt429Or5xxAndAtMostTenMinutes() throws Exception {
        TestServer server = server().thenHeartbeat(429, "300") // above the first step (120 s): honoured
                .thenHeartbeat(503, "5") // the server's usual 503: below the step (240 s), which wins
                .thenHeartbeat(429, "86400") // a day: 10 minutes
                .thenHeartbeat(503, "Wed, 21 Oct 2015 07:28:00 GMT") // a date: the backoff
                .thenHeartbeat(429, "0")
                .thenHeartbeat(204, null)
                .thenHeartbeat(429, "0"); // after a success, never below the interval either
        Heartbeat heartbeat = heartbeat(server.url(), MINUTE);

        assertThat(seconds(heartbeat, 7)).containsExactly(300L, 240L, 600L, 600L, 600L, 60L, 120L);
    }

    @Test
    void aRefusedCredentialAndOtherAnswersBackOffTooWithoutReadingRetryAfter() throws Exception {
        TestServer server = server().thenHeartbeat(401, "1")
                .thenHeartbeat(401, null)
                .thenHeartbeat(404, "900")
                .thenHeartbeat(200, null);
        Heartbeat heartbeat = heartbeat(server.url(), MINUTE);

        assertThat(seconds(heartbeat, 4)).containsExactly(120L, 240L, 480L, 60L);
    }

    @Test
    void anUnreachableServerBacksOff() throws Exception {
        Heartbeat heartbeat = heartbeat(nobody(), MINUTE);

        assertThat(seconds(heartbeat, 5)).containsExactly(120L, 240L, 480L, 600L, 600L);
    }

    @Test
    void theCapIsTenIntervalsAtMostTenMinutesAndNeverBelowTheInterval() throws Exception {
        URI nobody = nobody();

        assertThat(seconds(heartbeat(nobody, Duration.ofSeconds(5)), 5)).containsExactly(10L, 20L, 40L, 50L, 50L);
        assertThat(seconds(heartbeat(nobody, Duration.ofMinutes(5)), 3)).containsExactly(600L, 600L, 600L);
        assertThat(seconds(heartbeat(nobody, Duration.ofHours(1)), 3)).containsExactly(3600L, 3600L, 3600L);
        assertThat(Heartbeat.maxWait(MINUTE)).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void jitterSpreadsTheWaitsButNeverBelowTheInterval() throws Exception {
        URI nobody = nobody();
        Heartbeat low = heartbeat(nobody, MINUTE, () -> 0.0, () -> REPORT);
        Heartbeat high = heartbeat(nobody, MINUTE, () -> 0.999999, () -> REPORT);
        Heartbeat longInterval = heartbeat(nobody, Duration.ofHours(1), () -> 0.0, () -> REPORT);

        assertThat(low.beat()).isEqualTo(Duration.ofSeconds(96)); // 120 s - 20 %
        assertThat(high.beat()).isEqualTo(Duration.ofSeconds(144)); // 120 s + 20 %
        assertThat(longInterval.beat())
                .as("the cap is the interval: no jitter below it")
                .isEqualTo(Duration.ofHours(1));
    }

    @Test
    void aReportThatCannotBeMadeCountsAsAFailureAndTheScheduleGoesOn() throws Exception {
        TestServer server = server();
        Heartbeat heartbeat = heartbeat(server.url(), MINUTE, () -> 0.5, () -> {
            throw new IllegalStateException("spool closed");
        });

        assertThat(heartbeat.beat()).isEqualTo(Duration.ofSeconds(120));
        assertThat(server.heartbeats).isEmpty();
    }

    /** On a real scheduler: a heartbeat at start, the next after the interval, none once the executor is shut down. */
    @Test
    void startSendsAtOnceThenEveryIntervalUntilTheExecutorStops() throws Exception {
        TestServer server = server();
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        Heartbeat heartbeat =
                new Heartbeat(new ServerClient(server.url(), "tok", null), () -> REPORT, Duration.ofMillis(300));

        heartbeat.start(executor);
        TestServer.await("the first heartbeat", Duration.ofSeconds(5), () -> server.heartbeats.size() == 1);
        TestServer.await("the second heartbeat", Duration.ofSeconds(5), () -> server.heartbeats.size() == 2);
        executor.shutdownNow();

        assertThat(executor.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        long gapMillis = Duration.between(
                        server.heartbeats.get(0).at(), server.heartbeats.get(1).at())
                .toMillis();
        assertThat(gapMillis).isBetween(250L, 2_000L);
        Thread.sleep(600);
        assertThat(server.heartbeats).hasSize(2);
    }
}
