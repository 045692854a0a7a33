package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What ingest refuses and the connection and rate bounds, on the real server (TLS, PostgreSQL; Elasticsearch
 * is not needed here and is configured at an address where nothing listens, so indexing just waits): what cannot be true is 400
 * naming the field with nothing stored, an agent beyond its rate gets 429 with Retry-After, and idle, slow
 * and surplus connections are closed while a real agent is still answered.
 */
class IngestBoundsTest {
    static final String NO_ES = "http://127.0.0.1:9";

    @RegisterExtension
    static final ServerStack stack = ServerStack.builder()
            .elasticsearch(NO_ES)
            .env("DOZOR_INGEST_RATE_PER_AGENT", "1")
            .env("DOZOR_INGEST_BURST_PER_AGENT", "1000")
            .env("DOZOR_HTTP_INSTANCES", "2") // the buckets are shared by the instances
            .build();

    static SSLContext tls;

    @BeforeAll
    static void trust() {
        tls = DevCertificates.trusting(stack.certs().serverCert().resolveSibling("ca.pem"));
    }

    /** The shared settings on this class's database, without the rate settings of its server. */
    static Map<String, String> env() {
        return TestServer.env(
                stack.db().url(), NO_ES, stack.certs(), stack.dir().resolve("logs"));
    }

    static JsonObject event(UUID id) {
        return new JsonObject()
                .put("event_id", id.toString())
                .put("timestamp", "2026-11-27T10:15:03.120+03:00")
                .put("username", "ivanov")
                .put("process_name", "chrome.exe")
                .put("pid", 4312)
                .put("executable", "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe")
                .put("hostname", "PC-01");
    }

    static String batch(List<UUID> ids) {
        JsonArray events = new JsonArray();
        ids.forEach(id -> events.add(event(id)));
        return new JsonObject().put("events", events).encode();
    }

    static long stored(List<UUID> ids) {
        return (Long) stack.db()
                .query("SELECT count(*) AS n FROM events WHERE event_id = ANY($1)", (Object) ids.toArray(new UUID[0]))
                .get(0)
                .get("n");
    }

    // ------------------------------------------------------------------ part 2: 400 for what cannot be true

    /**
     * A good event, then one whose {@code field} is the raw JSON {@code value} (a string literal with its
     * escapes as written, or a bare JSON value); {@code wrap} puts the whole body inside a bigger document.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "year +294277|timestamp|\"+294277-01-01T00:00:00Z\"|events[1].timestamp",
                "before 2000|timestamp|\"1999-12-31T23:59:59Z\"|events[1].timestamp",
                "two days ahead|timestamp|FUTURE|events[1].timestamp",
                "newline in username|username|\"ivanov\\n[2026-11-27 10:15:03] Пользователь admin запустил x\"|events[1].username",
                "lone surrogate|username|\"iv\\ud800\"|events[1].username",
                "bidi override|process_name|\"\\u202Eexe.gpj\"|events[1].process_name",
                "bidi isolate|hostname|\"PC\\u2066-01\"|events[1].hostname",
                "tab in a path|executable|\"C:\\\\a\\tb.exe\"|events[1].executable",
                "C1 control|username|\"a\\u0085b\"|events[1].username",
                "900 levels behind comments|pid|/*\"*/ DEEP /*\"*/|body",
                "900 levels|pid|DEEP|body",
                "a comment|pid|/* 1 */ 1|body",
            })
    void whatCannotBeTrueIs400NamingTheFieldAndNothingIsStored(String what, String field, String value, String named) {
        TestServer server = stack.server();
        List<UUID> ids = List.of(UUID.randomUUID(), UUID.randomUUID());
        String literal = value.replace(
                        "FUTURE", "\"" + OffsetDateTime.now(ZoneOffset.UTC).plusDays(2) + "\"")
                .replace("DEEP", "[".repeat(900) + "]".repeat(900));
        String marker = "@@BAD@@";
        String body = new JsonObject()
                .put(
                        "events",
                        new JsonArray()
                                .add(event(ids.get(0)))
                                .add(event(ids.get(1)).put(field, marker)))
                .encode()
                .replace("\"" + marker + "\"", literal);
        assertThat(body).as("test body built").contains(literal);

        HttpResponse<String> response = server.post("/api/v1/events", server.token("pc-bad"), body);

        assertThat(response.statusCode()).as(what + ": " + response.body()).isEqualTo(400);
        JsonObject answer = new JsonObject(response.body());
        assertThat(answer.getString("field")).isEqualTo(named);
        assertThat(answer.getString("error")).startsWith(named + ": ");
        assertThat(response.headers().firstValue("Retry-After")).isEmpty();
        assertThat(stored(ids)).isZero();
    }

    @Test
    void aHeartbeatWithAForgedLineIs400AndNotRecorded() {
        TestServer server = stack.server();
        HttpResponse<String> response = server.post(
                "/api/v1/heartbeat",
                server.token("pc-hb-bad"),
                "{\"version\":\"0.1.0\",\"hostname\":\"PC-01\\r\\nPC-02\",\"spool_depth\":0}");
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(response.body()).getString("field")).isEqualTo("hostname");
        assertThat(stack.db().count("agents WHERE agent_id = 'pc-hb-bad' AND last_heartbeat IS NOT NULL"))
                .isZero();
    }

    // ------------------------------------------------------------------ part 3: rate per agent

    @Test
    void anAgentBeyondItsBucketGets429WithRetryAfterAndOthersAreNotAffected() {
        TestServer server = stack.server();
        String flooder = server.token("pc-flood");
        List<UUID> first = ids(600);
        List<UUID> second = ids(600);
        assertThat(server.post("/api/v1/events", flooder, batch(first)).statusCode())
                .isEqualTo(200);

        long t0 = System.nanoTime();
        HttpResponse<String> refused = server.post("/api/v1/events", flooder, batch(second));
        Duration held = Duration.ofNanos(System.nanoTime() - t0);

        assertThat(refused.statusCode()).isEqualTo(429);
        // held back a second: a client that ignores Retry-After cannot make the server refuse it faster
        assertThat(held).isGreaterThanOrEqualTo(Duration.ofMillis(950));
        // 400 tokens left, 600 asked, 1/s: about 200 s (a little less as time passes)
        assertThat(Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow()))
                .isBetween(190L, 200L);
        assertThat(new JsonObject(refused.body()).getString("error")).contains("retry after");
        assertThat(stored(second)).isZero();
        assertThat(stored(first)).isEqualTo(600);
        // what is left still passes, and another agent has its own bucket
        assertThat(server.post("/api/v1/events", flooder, batch(ids(300))).statusCode())
                .isEqualTo(200);
        List<UUID> other = ids(1000);
        assertThat(server.post("/api/v1/events", server.token("pc-quiet"), batch(other))
                        .statusCode())
                .isEqualTo(200);
        assertThat(stored(other)).isEqualTo(1000);
        // about 100 left: 150 are refused again
        List<UUID> third = ids(150);
        HttpResponse<String> again = server.post("/api/v1/events", flooder, batch(third));
        assertThat(again.statusCode()).isEqualTo(429);
        assertThat(Long.parseLong(again.headers().firstValue("Retry-After").orElseThrow()))
                .isBetween(1L, 50L);
        assertThat(stored(third)).isZero();
    }

    /** Assertions made while a batch is held. */
    interface WhileHeld {
        void check() throws Exception;
    }

    /**
     * Sends {@code ids} as {@code token}'s batch while the test holds the events table locked, waits until the batch
     * is blocked on it, runs {@code during}, releases the table and answers the held batch's response.
     */
    static HttpResponse<String> whileABatchIsHeld(TestServer server, String token, List<UUID> ids, WhileHeld during)
            throws Exception {
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try {
            Future<HttpResponse<String>> pending;
            try (AutoCloseable lock = stack.db().holdTransaction("LOCK TABLE events IN EXCLUSIVE MODE")) {
                pending = pool.submit(() -> server.post("/api/v1/events", token, batch(ids)));
                awaitABatchWaitingForTheEventsTable();
                during.check();
            }
            return pending.get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdown();
        }
    }

    /** Until a statement waits for the events table's lock (held by the test): a batch is in flight. */
    static void awaitABatchWaitingForTheEventsTable() {
        Wait.until(
                "the first batch waiting for the table",
                Duration.ofSeconds(10),
                () -> ((Number) stack.db()
                                        .query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted"
                                                + " AND relation = 'events'::regclass AND database ="
                                                + " (SELECT oid FROM pg_database WHERE datname = current_database())")
                                        .get(0)
                                        .get("n"))
                                .longValue()
                        > 0);
    }

    @Test
    void aSecondBatchOfAnAgentWhileItsFirstIsBeingStoredIs429AndTheFirstIsStored() throws Exception {
        TestServer server = stack.server();
        String agent = server.token("pc-parallel");
        List<UUID> first = ids(10);
        List<UUID> second = ids(10);
        HttpResponse<String> held = whileABatchIsHeld(server, agent, first, () -> {
            HttpResponse<String> refused = server.post("/api/v1/events", agent, batch(second));
            assertThat(refused.statusCode()).isEqualTo(429);
            assertThat(refused.headers().firstValue("Retry-After")).contains("1");
            assertThat(new JsonObject(refused.body()).getString("error")).contains("previous batch");
        });
        assertThat(held.statusCode()).isEqualTo(200);
        assertThat(stored(first)).isEqualTo(10);
        assertThat(stored(second)).isZero();
        // answered, the agent may send again
        assertThat(server.post("/api/v1/events", agent, batch(second)).statusCode())
                .isEqualTo(200);
        assertThat(stored(second)).isEqualTo(10);
    }

    @Test
    void beyondTheProcesssRequestsInFlightAnAgentGets429WithASpreadRetryAfter() throws Exception {
        Map<String, String> env = env();
        env.put("DOZOR_INGEST_MAX_IN_FLIGHT", "1");
        try (TestServer bounded = new TestServer(env, false)) {
            String first = bounded.token("pc-inflight-1");
            String other = bounded.token("pc-inflight-2");
            List<UUID> held = ids(5);
            List<UUID> refusedIds = ids(5);
            HttpResponse<String> heldAnswer = whileABatchIsHeld(bounded, first, held, () -> {
                // another agent's batch and heartbeat: the one request the process serves at once is taken
                HttpResponse<String> batch = bounded.post("/api/v1/events", other, batch(refusedIds));
                assertThat(batch.statusCode()).isEqualTo(429);
                assertThat(Integer.parseInt(
                                batch.headers().firstValue("Retry-After").orElseThrow()))
                        .isBetween(1, 5);
                assertThat(new JsonObject(batch.body()).getString("error")).contains("server is busy");
                HttpResponse<String> beat =
                        bounded.post("/api/v1/heartbeat", other, FleetFeedTest.heartbeat("0.1.0", "PC-IF"));
                assertThat(beat.statusCode()).isEqualTo(429);
            });
            assertThat(heldAnswer.statusCode()).isEqualTo(200);
            assertThat(stored(held)).isEqualTo(5);
            assertThat(stored(refusedIds)).isZero();
            // answered, the slot is free again: the refused batch goes through when resent
            assertThat(bounded.post("/api/v1/events", other, batch(refusedIds)).statusCode())
                    .isEqualTo(200);
            assertThat(stored(refusedIds)).isEqualTo(5);
            assertThat(bounded.post("/api/v1/heartbeat", other, FleetFeedTest.heartbeat("0.1.0", "PC-IF"))
                            .statusCode())
                    .isEqualTo(204);
        }
    }

    @Test
    void aBatchWaitingWhileItsMonthGetsItsPartitionIsStoredNotRefused() throws Exception {
        TestServer server = stack.server();
        String agent = server.token("pc-month");
        List<UUID> ids = ids(5);
        JsonArray events = new JsonArray();
        ids.forEach(id -> events.add(event(id).put("timestamp", "2025-03-10T08:00:00Z"))); // no partition: default
        String body = new JsonObject().put("events", events).encode();
        io.vertx.pgclient.PgConnectOptions o =
                io.vertx.pgclient.PgConnectOptions.fromUri(stack.db().url());
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try (java.sql.Connection retention = java.sql.DriverManager.getConnection(
                "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase(),
                o.getUser(),
                o.getPassword())) {
            // what the retention run does to make a month's partition, held open while the batch arrives
            retention.setAutoCommit(false);
            retention.createStatement().execute("LOCK TABLE events_default IN EXCLUSIVE MODE");
            Future<HttpResponse<String>> pending = pool.submit(() -> server.post("/api/v1/events", agent, body));
            Wait.until(
                    "the batch waiting for the default partition",
                    Duration.ofSeconds(10),
                    () -> ((Number) stack.db()
                                            .query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted"
                                                    + " AND relation = 'events_default'::regclass")
                                            .get(0)
                                            .get("n"))
                                    .longValue()
                            > 0);
            retention.createStatement().execute("SELECT events_ensure_month('2025-03-10T00:00:00Z')");
            retention.commit();
            // the insert routed to the default partition meets its new bound (23514) and is sent again
            assertThat(pending.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        } finally {
            pool.shutdownNow();
        }
        assertThat(stored(ids)).isEqualTo(5);
        assertThat(stack.db().count("events_p2025_03")).isEqualTo(5);
    }

    @Test
    void heartbeatsAreRateLimitedPerAgentToo() {
        TestServer server = stack.server();
        String token = server.token("pc-hb-flood");
        String body = "{\"version\":\"0.1.0\",\"hostname\":\"PC-HB\"}";
        long start = System.nanoTime();
        int accepted = 0;
        HttpResponse<String> response;
        while ((response = server.post("/api/v1/heartbeat", token, body)).statusCode() == 204) {
            accepted++;
            assertThat(accepted).as("heartbeats accepted before a 429").isLessThan(100);
        }
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertThat(response.statusCode()).isEqualTo(429);
        assertThat(response.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(accepted).isBetween(10, 10 + (int) seconds + 1);
        assertThat(server.post("/api/v1/heartbeat", server.token("pc-hb-other"), body)
                        .statusCode())
                .isEqualTo(204);
    }

    static List<UUID> ids(int n) {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(UUID.randomUUID());
        }
        return ids;
    }

    // ------------------------------------------------------------------ part 3: connections

    /** A TCP connection to {@code port} from the loopback address {@code local} (127.0.0.x). */
    static Socket tcp(String local, int port) throws IOException {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(local, 0));
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        return socket;
    }

    static SSLSocket tlsSocket(String local, int port) throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(tcp(local, port), "127.0.0.1", port, true);
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    /**
     * A connection the server has admitted and serves: one request answered on it. Before it returns, the server
     * has counted the connection in (the client's handshake can end before the server's does, so a connection
     * opened right after another may otherwise reach the server first).
     */
    static SSLSocket served(String local, int port) throws IOException {
        SSLSocket socket = tlsSocket(local, port);
        socket.getOutputStream()
                .write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        byte[] status = new byte[12];
        int read = 0;
        while (read < status.length) {
            int n = socket.getInputStream().read(status, read, status.length - read);
            if (n < 0) {
                throw new IOException("closed by the server instead of answering");
            }
            read += n;
        }
        assertThat(new String(status, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
        return socket;
    }

    /** Whether the server closed the connection within {@code wait} (end of stream or an error on read). */
    static boolean closedWithin(Socket socket, Duration wait) {
        try {
            socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
            InputStream in = socket.getInputStream();
            while (in.read() != -1) {
                // an answer (to a complete request) is read past
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    static void closeAll(List<Socket> sockets) {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    @Test
    void withAThousandIdleAndSlowConnectionsOpenARealBatchIsAnsweredWithinOneSecond() throws Exception {
        Map<String, String> env = env();
        env.put("DOZOR_HTTP_HEADER_TIMEOUT", "120s"); // they must all still be open when the batch is sent
        env.put("DOZOR_HTTP_BODY_TIMEOUT", "120s");
        try (TestServer bounded = new TestServer(env, false)) {
            String token = bounded.token("pc-real");
            int port = bounded.server.port();
            assertThat(bounded.post("/api/v1/events", token, batch(ids(10))).statusCode())
                    .isEqualTo(200); // warm
            List<Socket> hostile = new ArrayList<>();
            try {
                // from four addresses (the default cap is 256 per address): half never start TLS, 30 % are idle
                // after the handshake, 20 % sent the start of a request head and stopped
                for (int i = 0; i < 1_000; i++) {
                    String local = "127.0.0." + (2 + i % 4);
                    int kind = i % 10;
                    if (kind < 5) {
                        hostile.add(tcp(local, port));
                    } else {
                        SSLSocket s = tlsSocket(local, port);
                        if (kind >= 8) {
                            s.getOutputStream()
                                    .write("POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".getBytes());
                            s.getOutputStream().flush();
                        }
                        hostile.add(s);
                    }
                }
                for (int attempt = 0; attempt < 3; attempt++) {
                    List<UUID> ids = ids(100);
                    var fresh = TestServer.client(
                            java.util.Optional.of(stack.certs().serverCert().resolveSibling("ca.pem")));
                    long t0 = System.nanoTime();
                    HttpResponse<String> response = fresh.send(
                            java.net.http.HttpRequest.newBuilder(bounded.uri("/api/v1/events"))
                                    .timeout(Duration.ofSeconds(10))
                                    .header("Content-Type", "application/json")
                                    .header("Authorization", "Bearer " + token)
                                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(batch(ids)))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    Duration took = Duration.ofNanos(System.nanoTime() - t0);
                    System.out.println(
                            "batch with 1000 hostile connections open answered in " + took.toMillis() + " ms");
                    assertThat(response.statusCode()).isEqualTo(200);
                    assertThat(took)
                            .as("answer time with 1000 idle and slow connections (new connection, TLS included)")
                            .isLessThan(Duration.ofSeconds(1));
                    assertThat(stored(ids)).isEqualTo(100);
                }
                long stillOpen = hostile.stream()
                        .filter(s -> !closedWithin(s, Duration.ofMillis(1)))
                        .count();
                assertThat(stillOpen)
                        .as("hostile connections still open during the measurement")
                        .isEqualTo(1_000);
            } finally {
                closeAll(hostile);
            }
        }
    }

    /** A connection to measure: made by {@code open}, then fed by {@code feed} until the server closes it. */
    interface Opener {
        Socket open() throws IOException;
    }

    /**
     * The time from before {@code open} (so never after the server's clock for it started) until the server
     * closes the connection; meanwhile {@code prefix} is sent, then {@code filler} (if not 0) every 200 ms, so
     * the connection is never idle. At most {@code max}.
     */
    static Duration untilClosed(Opener open, byte[] prefix, byte filler, Duration max) throws IOException {
        long t0 = System.nanoTime();
        Socket socket = open.open();
        OutputStream out = socket.getOutputStream();
        if (prefix.length > 0) {
            out.write(prefix);
            out.flush();
        }
        try {
            while (System.nanoTime() - t0 < max.toNanos()) {
                if (closedWithin(socket, Duration.ofMillis(200))) {
                    return Duration.ofNanos(System.nanoTime() - t0);
                }
                if (filler != 0) {
                    try {
                        out.write(filler);
                        out.flush();
                    } catch (IOException e) {
                        return Duration.ofNanos(System.nanoTime() - t0);
                    }
                }
            }
            return max;
        } finally {
            socket.close();
        }
    }

    @Test
    void idleAndSlowConnectionsAreClosedAfterTheirTimeouts() throws Exception {
        Map<String, String> env = env();
        // long enough for a TLS handshake on a loaded build machine (the handshake has the header timeout too)
        env.put("DOZOR_HTTP_HEADER_TIMEOUT", "2s");
        env.put("DOZOR_HTTP_BODY_TIMEOUT", "5s");
        // idle between two requests: longer than the header timeout, so the kept connection shows which one applies
        env.put("DOZOR_HTTP_IDLE_TIMEOUT", "5s");
        try (TestServer bounded = new TestServer(env, false)) {
            String token = bounded.token("pc-slow");
            int port = bounded.server.port();
            Duration max = Duration.ofSeconds(20);
            ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
            try {
                byte[] none = new byte[0];
                Future<Duration> noHandshake =
                        pool.submit(() -> untilClosed(() -> tcp("127.0.0.2", port), none, (byte) 0, max));
                Future<Duration> idleTls =
                        pool.submit(() -> untilClosed(() -> tlsSocket("127.0.0.2", port), none, (byte) 0, max));
                Future<Duration> slowHead = pool.submit(() -> untilClosed(
                        () -> tlsSocket("127.0.0.2", port),
                        "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".getBytes(),
                        (byte) 'a',
                        max));
                Future<Duration> slowBody = pool.submit(() -> untilClosed(
                        () -> tlsSocket("127.0.0.2", port),
                        ("POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                                        + "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"events\": [")
                                .getBytes(),
                        (byte) ' ',
                        max));
                // one request answered on a kept-alive connection, which then stays idle: timed from the request,
                // closed at the idle timeout (5 s), not at the header timeout (2 s) that bounds the first head
                Future<Duration> afterAnAnswer = pool.submit(() -> {
                    SSLSocket s = tlsSocket("127.0.0.2", port);
                    return untilClosed(
                            () -> s, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(), (byte) 0, max);
                });

                // nothing is closed before its deadline (2 s for a first head, 5 s for a body or between requests),
                // and each is closed after it (the upper bounds leave room for a slow handshake on a loaded machine)
                assertThat(noHandshake.get())
                        .as("no TLS handshake")
                        .isBetween(Duration.ofMillis(1_950), Duration.ofSeconds(10));
                assertThat(idleTls.get())
                        .as("idle after the handshake")
                        .isBetween(Duration.ofMillis(1_950), Duration.ofSeconds(10));
                assertThat(slowHead.get())
                        .as("a byte of the head every 200 ms")
                        .isBetween(Duration.ofMillis(1_950), Duration.ofSeconds(10));
                assertThat(slowBody.get())
                        .as("a byte of the body every 200 ms")
                        .isBetween(Duration.ofMillis(4_950), Duration.ofSeconds(15));
                assertThat(afterAnAnswer.get())
                        .as("idle after an answer")
                        .isBetween(Duration.ofMillis(4_950), Duration.ofSeconds(15));
            } finally {
                pool.shutdownNow();
            }
            // the server still answers, and tells the client how long it keeps the connection (5 s less half)
            HttpResponse<String> answer = bounded.post("/api/v1/events", token, batch(ids(5)));
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.headers().firstValue("Keep-Alive")).hasValue("timeout=2");
            assertThat(answer.headers().firstValue("Connection")).hasValue("keep-alive");
        }
    }

    @Test
    void handshakesBeyondTheQueueAreRefusedAtOnceWhileOpenConnectionsAreAnswered() throws Exception {
        Map<String, String> env = env();
        env.put("DOZOR_HTTP_TLS_HANDSHAKE_THREADS", "1");
        env.put("DOZOR_HTTP_TLS_HANDSHAKE_QUEUE", "1");
        env.put("DOZOR_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "1000");
        try (TestServer bounded = new TestServer(env, false)) {
            String token = bounded.token("pc-flood");
            int port = bounded.server.port();
            SSLSocket open = served("127.0.0.3", port); // an agent connected before the storm
            ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
            AtomicInteger refused = new AtomicInteger();
            AtomicInteger completed = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> storm = new ArrayList<>();
            try {
                for (int i = 0; i < 300; i++) {
                    storm.add(pool.submit(() -> {
                        go.await();
                        try (SSLSocket s = tlsSocket("127.0.0.4", port)) {
                            completed.incrementAndGet();
                        } catch (IOException e) {
                            refused.incrementAndGet();
                        }
                        return null;
                    }));
                }
                go.countDown();
                // the connection opened before is answered while the handshakes queue
                open.getOutputStream()
                        .write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                open.getOutputStream().flush();
                StringBuilder answers = new StringBuilder();
                InputStream in = open.getInputStream();
                // (served() read the first answer's status line; the rest of that answer comes first)
                while (answers.indexOf("HTTP/1.1 200") < 0) {
                    int b = in.read();
                    assertThat(b).as("the open connection's second answer").isNotNegative();
                    answers.append((char) b);
                }
                for (Future<?> f : storm) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
                open.close();
            }
            // one thread, one step waiting: most of 300 simultaneous handshakes are refused, some complete
            assertThat(refused.get()).as("refused handshakes").isPositive();
            assertThat(completed.get()).as("completed handshakes").isPositive();
            assertThat(refused.get() + completed.get()).isEqualTo(300);
            // and the server takes new connections again once the storm is over
            assertThat(bounded.post("/api/v1/events", token, batch(ids(3))).statusCode())
                    .isEqualTo(200);
        }
    }

    @Test
    void connectionsBeyondTheCapsAreClosedAndTheirSlotsComeBack() throws Exception {
        Map<String, String> env = env();
        env.put("DOZOR_HTTP_INSTANCES", "3"); // the caps hold for all instances together
        env.put("DOZOR_HTTP_MAX_CONNECTIONS", "8");
        env.put("DOZOR_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "5");
        env.put("DOZOR_HTTP_HEADER_TIMEOUT", "60s");
        try (TestServer bounded = new TestServer(env, false)) {
            String token = bounded.token("pc-cap");
            int port = bounded.server.port();
            List<Socket> open = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    open.add(served("127.0.0.2", port));
                }
                SSLSocket sixth = tlsSocket("127.0.0.2", port);
                assertThat(closedWithin(sixth, Duration.ofSeconds(3)))
                        .as("6th from one address")
                        .isTrue();
                for (int i = 0; i < 3; i++) {
                    open.add(served("127.0.0.3", port));
                }
                SSLSocket ninth = tlsSocket("127.0.0.4", port);
                assertThat(closedWithin(ninth, Duration.ofSeconds(3)))
                        .as("9th in all")
                        .isTrue();
                for (Socket s : open) {
                    assertThat(closedWithin(s, Duration.ofMillis(20)))
                            .as("admitted connections stay")
                            .isFalse();
                }
                // a slot freed by a client is counted out again
                open.remove(0).close();
                open.remove(0).close();
                Thread.sleep(300);
                SSLSocket again = tlsSocket("127.0.0.2", port);
                open.add(again);
                assertThat(closedWithin(again, Duration.ofMillis(500))).isFalse();
                assertThat(bounded.post("/api/v1/events", token, batch(ids(5))).statusCode())
                        .isEqualTo(200);
            } finally {
                closeAll(open);
            }
        }
    }
}
