package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class EventShipperTest {

    private static final String TOKEN = "s3cret-token";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final InMemoryEventQueue queue = new InMemoryEventQueue();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void captureLogs() {
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    }

    @AfterEach
    void tearDown() throws Exception {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        assertThat(logs.list).noneMatch(e -> e.getFormattedMessage().contains(TOKEN));
    }

    private TestServer server(TestServer server) {
        toClose.add(server);
        return server;
    }

    private EventShipper shipper(URI url, SSLContext ssl) {
        EventShipper shipper = new EventShipper(
                url,
                TOKEN,
                ssl,
                queue,
                Duration.ofMillis(50),
                new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)));
        toClose.add(shipper);
        return shipper;
    }

    private static LaunchEvent event(int pid) {
        return new LaunchEvent(
                UUID.randomUUID(),
                OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"),
                "ivanov",
                "chrome.exe",
                pid,
                "C:\\chrome.exe",
                "PC-01");
    }

    private List<String> offer(int count) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            LaunchEvent e = event(1000 + i);
            queue.offer(e);
            ids.add(e.eventId().toString());
        }
        return ids;
    }

    private List<ILoggingEvent> logged(ch.qos.logback.classic.Level level) {
        return logs.list.stream().filter(e -> e.getLevel() == level).toList();
    }

    @Test
    void postsTheBatchWithTheBearerTokenAsJson() throws Exception {
        TestServer server = server(TestServer.http());
        List<String> ids = offer(2);

        shipper(server.url(), null).start();

        TestServer.await("delivery", TIMEOUT, () -> queue.size() == 0);
        assertThat(server.requests).hasSize(1);
        TestServer.Request request = server.requests.get(0);
        assertThat(request.header("Authorization")).isEqualTo("Bearer " + TOKEN);
        assertThat(request.header("Content-Type")).isEqualTo("application/json");
        assertThat(request.eventIds()).isEqualTo(ids);
        assertThat(request.body().get("events").get(0).get("timestamp").asText())
                .isEqualTo("2026-11-27T10:15:03.120+03:00");
    }

    @Test
    void keepsTheEventsOn503AndResendsThemOnceAfterRetryAfter() throws Exception {
        TestServer server = server(TestServer.http().then(503, "1", "{\"error\":\"storage down\"}"));
        List<String> ids = offer(3);

        shipper(server.url(), null).start();

        TestServer.await("redelivery", TIMEOUT, () -> server.requests.size() == 2 && queue.size() == 0);
        assertThat(server.requests.get(0).eventIds()).isEqualTo(ids);
        assertThat(server.requests.get(1).eventIds()).isEqualTo(ids);
        assertThat(Duration.between(
                        server.requests.get(0).at(), server.requests.get(1).at()))
                .isGreaterThanOrEqualTo(Duration.ofMillis(950));
        Thread.sleep(200); // nothing more is sent once delivered
        assertThat(server.requests).hasSize(2);
        assertThat(logged(ch.qos.logback.classic.Level.WARN))
                .extracting(ILoggingEvent::getFormattedMessage)
                .singleElement()
                .asString()
                .startsWith("server unreachable");
        assertThat(logged(ch.qos.logback.classic.Level.INFO))
                .extracting(ILoggingEvent::getFormattedMessage)
                .singleElement()
                .asString()
                .startsWith("server reachable again");
    }

    @Test
    void on429ItWaitsTheRetryAfterThenResendsTheSameBatchLosingNothing() throws Exception {
        // the server's per-agent rate limit: twice refused, 2 s then 1 s to wait (the backoff would be 100 ms)
        TestServer server = server(TestServer.http()
                .then(429, "2", "{\"error\":\"too many events from this agent; retry after 2 s\"}")
                .then(429, "1", "{\"error\":\"too many events from this agent; retry after 1 s\"}"));
        List<String> ids = offer(3);

        shipper(server.url(), null).start();

        TestServer.await("delivery after the waits", TIMEOUT, () -> server.requests.size() == 3 && queue.size() == 0);
        for (TestServer.Request request : server.requests) {
            assertThat(request.eventIds()).isEqualTo(ids);
        }
        assertThat(Duration.between(
                        server.requests.get(0).at(), server.requests.get(1).at()))
                .isGreaterThanOrEqualTo(Duration.ofMillis(1_950));
        assertThat(Duration.between(
                        server.requests.get(1).at(), server.requests.get(2).at()))
                .isGreaterThanOrEqualTo(Duration.ofMillis(950));
        Thread.sleep(200); // delivered once, nothing dropped or sent again
        assertThat(server.requests).hasSize(3);
        assertThat(logged(ch.qos.logback.classic.Level.ERROR)).isEmpty();
    }

    @Test
    void warnsOnceWhileTheServerStaysUnreachable() throws Exception {
        TestServer server = server(TestServer.http()
                .then(500, null, "")
                .then(502, null, "")
                .then(429, null, "")
                .then(503, null, ""));
        List<String> ids = offer(1);

        shipper(server.url(), null).start();

        TestServer.await("delivery", TIMEOUT, () -> queue.size() == 0);
        assertThat(server.requests).hasSize(5);
        assertThat(server.requests.get(4).eventIds()).isEqualTo(ids);
        assertThat(logged(ch.qos.logback.classic.Level.WARN)).hasSize(1);
    }

    @Test
    void dropsABatchThatTheServerRejectsAs400AndGoesOn() throws Exception {
        TestServer server = server(TestServer.http().then(400, null, "{\"error\":\"timestamp: invalid\"}"));
        offer(2);
        EventShipper shipper = shipper(server.url(), null);

        assertThat(shipper.sendBatch().retry()).isFalse();

        assertThat(queue.size()).isZero();
        assertThat(logged(ch.qos.logback.classic.Level.ERROR))
                .extracting(ILoggingEvent::getFormattedMessage)
                .singleElement()
                .asString()
                .contains("status=400")
                .contains("timestamp: invalid");

        List<String> next = offer(1);
        shipper.start();
        TestServer.await("next delivery", TIMEOUT, () -> server.requests.size() == 2 && queue.size() == 0);
        assertThat(server.requests.get(1).eventIds()).isEqualTo(next);
    }

    @Test
    void dropsABatchThatIsTooLarge() throws Exception {
        TestServer server = server(TestServer.http().then(413, null, "{\"error\":\"too large\"}"));
        offer(2);

        assertThat(shipper(server.url(), null).sendBatch().retry()).isFalse();
        assertThat(queue.size()).isZero();
    }

    @Test
    void keepsTheEventsWhenTheTokenIsRejected() throws Exception {
        TestServer server = server(TestServer.http().then(401, null, "{\"error\":\"token\"}"));
        offer(2);

        EventShipper.Outcome outcome = shipper(server.url(), null).sendBatch();

        assertThat(outcome.retry()).isTrue();
        assertThat(queue.size()).isEqualTo(2);
        assertThat(logged(ch.qos.logback.classic.Level.ERROR))
                .extracting(ILoggingEvent::getFormattedMessage)
                .singleElement()
                .asString()
                .contains("refuses this agent's credential");
    }

    @Test
    void keepsTheEventsWhenNothingListens() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        offer(2);

        EventShipper.Outcome outcome =
                shipper(URI.create("http://127.0.0.1:" + port), null).sendBatch();

        assertThat(outcome.retry()).isTrue();
        assertThat(queue.size()).isEqualTo(2);
    }

    @Test
    void sendsAtMost500EventsPerRequest() throws Exception {
        TestServer server = server(TestServer.http());
        List<String> ids = offer(1201);

        shipper(server.url(), null).start();

        TestServer.await("delivery", TIMEOUT, () -> queue.size() == 0);
        assertThat(server.requests).extracting(r -> r.eventIds().size()).containsExactly(500, 500, 201);
        assertThat(server.receivedEventIds()).isEqualTo(ids);
    }

    @Test
    void deliversOverHttpsTrustingOnlyTheCaFile(@TempDir Path dir) throws Exception {
        TestServer server = server(TestServer.https());
        Path ca = copy("/tls/server.pem", dir);
        offer(1);

        assertThat(shipper(server.url(), EventShipper.sslContext(ca))
                        .sendBatch()
                        .retry())
                .isFalse();

        assertThat(queue.size()).isZero();
        assertThat(server.requests).hasSize(1);
    }

    @Test
    void refusesAnHttpsServerWhoseCertificateIsNotInTheCaFile(@TempDir Path dir) throws Exception {
        TestServer server = server(TestServer.https());
        Path other = copy("/tls/other.pem", dir);
        offer(1);

        assertThat(shipper(server.url(), EventShipper.sslContext(other))
                        .sendBatch()
                        .retry())
                .isTrue();

        assertThat(queue.size()).isEqualTo(1);
        assertThat(server.requests).isEmpty();
        assertThat(logged(ch.qos.logback.classic.Level.WARN))
                .extracting(ILoggingEvent::getFormattedMessage)
                .singleElement()
                .asString()
                .contains("SSLHandshakeException");
    }

    @Test
    @org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
    void verifiesTheHostNameOfTheServer(@TempDir Path dir) throws Exception {
        // the certificate names localhost and 127.0.0.1, not 127.0.0.2 (also a loopback address on Linux)
        TestServer server = server(TestServer.https(InetAddress.getByName("127.0.0.2")));
        Path ca = copy("/tls/server.pem", dir);
        offer(1);
        URI wrongName = URI.create("https://127.0.0.2:" + server.url().getPort());

        assertThat(shipper(wrongName, EventShipper.sslContext(ca)).sendBatch().retry())
                .isTrue();

        assertThat(server.requests).isEmpty();
        assertThat(logged(ch.qos.logback.classic.Level.WARN))
                .extracting(ILoggingEvent::getFormattedMessage)
                .singleElement()
                .asString()
                .contains("SSLHandshakeException")
                .contains("127.0.0.2");
    }

    static Path copy(String resource, Path dir) throws IOException {
        Path file = dir.resolve(Path.of(resource).getFileName().toString());
        try (var in = EventShipperTest.class.getResourceAsStream(resource)) {
            Files.copy(in, file);
        }
        return file;
    }

    @Test
    void repeated503sBackOffFurtherThanTheirRetryAfter() throws Exception {
        TestServer server = server(TestServer.http()
                .then(503, "0", "")
                .then(503, "0", "")
                .then(503, "0", "")
                .then(503, "0", ""));
        offer(1);

        shipper(server.url(), null).start();

        TestServer.await("delivery", TIMEOUT, () -> queue.size() == 0);
        assertThat(server.requests).hasSize(5);
        // the test's backoff: 100 ms doubling to 1 s, ±20 %: the fourth wait is at least 0.8 × 800 ms
        assertThat(Duration.between(
                        server.requests.get(3).at(), server.requests.get(4).at()))
                .isGreaterThanOrEqualTo(Duration.ofMillis(600));
    }

    @Test
    void aRetryAfterOfZeroDoesNotMakeABusyLoop() throws Exception {
        TestServer server =
                server(TestServer.http().then(503, "0", "").then(503, "0", "").then(503, "0", ""));
        offer(1);

        shipper(server.url(), null).start();

        TestServer.await("delivery", TIMEOUT, () -> queue.size() == 0);
        assertThat(server.requests).hasSize(4);
        for (int i = 1; i < 4; i++) {
            assertThat(Duration.between(
                            server.requests.get(i - 1).at(),
                            server.requests.get(i).at()))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(90)); // the first backoff step of the test: 100 ms
        }
    }

    @Test
    void closingStopsARequestToAServerThatNeverAnswersAndKeepsTheBatch() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            offer(1);
            EventShipper shipper = shipper(URI.create("http://127.0.0.1:" + silent.getLocalPort()), null);
            shipper.start();
            try (Socket accepted = silent.accept()) { // the request is sent and waits for an answer
                long start = System.nanoTime();
                shipper.close();

                assertThat(shipper.running()).as("shipper thread ended").isFalse();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
                assertThat(queue.size()).as("the unanswered batch stays queued").isEqualTo(1);
            }
        }
    }
}
