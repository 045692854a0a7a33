package io.dozor.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** A local events endpoint that records requests and answers as scripted (200 once the script is used up). */
final class TestServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    record Request(Instant at, Map<String, List<String>> headers, JsonNode body) {
        String header(String name) {
            return headers.entrySet().stream()
                    .filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0))
                    .findFirst()
                    .orElse(null);
        }

        List<String> eventIds() {
            List<String> ids = new ArrayList<>();
            body.get("events").forEach(e -> ids.add(e.get("event_id").asText()));
            return ids;
        }
    }

    record Answer(int status, String retryAfter, String body) {}

    private final HttpServer server;
    private final ConcurrentLinkedQueue<Answer> script = new ConcurrentLinkedQueue<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    final List<Request> heartbeats = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Answer> heartbeatScript = new ConcurrentLinkedQueue<>();
    /** The answer to heartbeats once their script is used up. */
    volatile int heartbeatStatus = 204;
    /** Runs while a heartbeat is answered (a test moves its ticker there: the request "took" that long). */
    volatile Runnable onHeartbeat = () -> {};

    private TestServer(HttpServer server) {
        this.server = server;
        server.createContext("/api/v1/events", this::handle);
        server.createContext("/api/v1/heartbeat", exchange -> {
            heartbeats.add(new Request(
                    Instant.now(),
                    Map.copyOf(exchange.getRequestHeaders()),
                    JSON.readTree(exchange.getRequestBody().readAllBytes())));
            onHeartbeat.run();
            Answer answer = heartbeatScript.poll();
            if (answer == null) {
                answer = new Answer(heartbeatStatus, null, "");
            }
            answer(exchange, answer);
        });
        server.start();
    }

    static TestServer http() throws IOException {
        return new TestServer(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0));
    }

    /** HTTPS with the test-only key in /tls/server.p12 (certificate for localhost and 127.0.0.1). */
    static TestServer https() throws Exception {
        return https(InetAddress.getLoopbackAddress());
    }

    static TestServer https(InetAddress address) throws Exception {
        HttpsServer server = HttpsServer.create(new InetSocketAddress(address, 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(serverTls()));
        return new TestServer(server);
    }

    /** The server side of TLS with the test-only key in /tls/server.p12 (the agent trusts /tls/server.pem). */
    static SSLContext serverTls() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = TestServer.class.getResourceAsStream("/tls/server.p12")) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "changeit".toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        return context;
    }

    TestServer then(int status, String retryAfter, String body) {
        script.add(new Answer(status, retryAfter, body));
        return this;
    }

    /** The next answer to a heartbeat ({@link #heartbeatStatus} once these are used up). */
    TestServer thenHeartbeat(int status, String retryAfter) {
        heartbeatScript.add(new Answer(status, retryAfter, status == 204 ? "" : "{}"));
        return this;
    }

    URI url() {
        String scheme = server instanceof HttpsServer ? "https" : "http";
        return URI.create(scheme + "://localhost:" + server.getAddress().getPort());
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        requests.add(new Request(Instant.now(), Map.copyOf(exchange.getRequestHeaders()), JSON.readTree(body)));
        Answer answer = script.poll();
        answer(exchange, answer == null ? new Answer(200, null, "{}") : answer);
    }

    private static void answer(HttpExchange exchange, Answer answer) throws IOException {
        if (answer.retryAfter() != null) {
            exchange.getResponseHeaders().add("Retry-After", answer.retryAfter());
        }
        byte[] out = answer.body().getBytes(StandardCharsets.UTF_8);
        if (out.length > 0) {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
        }
        exchange.sendResponseHeaders(answer.status(), out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
            exchange.getResponseBody().write(out);
        }
        exchange.close();
    }

    /** The event ids of every request received, in order. */
    List<String> receivedEventIds() {
        return requests.stream().flatMap(r -> r.eventIds().stream()).toList();
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
