package io.dozor.server.http;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.ops.Meters;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds on the ingest server's connections (HTTP/1.1): how many are open, in all and per remote address
 * ({@link Counts}, shared by every {@link IngestVerticle} instance), and how long one may take to send a
 * request: its first head within {@code headerTimeout} of opening, each later head within {@code keepAlive} of
 * the previous answer, its body within {@code bodyTimeout} of its head. A connection over a cap or a deadline is
 * closed. (Vert.x's own idle timeout closes connections with no traffic at all, and the TLS handshake has the
 * header timeout.)
 *
 * <p>Between two requests a client may stay idle for {@code keepAlive}: every answer says so in a {@code
 * Keep-Alive: timeout=N} header with N a little shorter ({@link #announcedSeconds}), so that a client closes an
 * idle connection before the server does and never sends a request into a closing one. The agent's JDK client
 * keeps a connection only 5 s when the server announces nothing; with the announcement an agent that sends a
 * heartbeat a minute keeps one TLS connection for its life instead of a handshake per request. (A slow client
 * that trickles its second head holds its connection up to {@code keepAlive}; {@code max_connections} and the
 * per-address cap bound how many such connections there can be.)
 *
 * <p>One guard per verticle instance: its connections' handlers all run on that instance's event loop, so
 * the per-connection state is a plain map, emptied as connections close.
 */
public final class ConnectionGuard {
    private final Vertx vertx;
    private final Counts counts;
    private final long headerTimeoutMs;
    private final long keepAliveMs;
    private final long bodyTimeoutMs;
    private final String keepAliveHeader;
    private final Map<HttpConnection, State> connections = new HashMap<>();

    ConnectionGuard(Vertx vertx, Counts counts, Duration headerTimeout, Duration keepAlive, Duration bodyTimeout) {
        this.vertx = vertx;
        this.counts = counts;
        this.headerTimeoutMs = Math.max(1, headerTimeout.toMillis());
        this.keepAliveMs = Math.max(1, keepAlive.toMillis());
        this.bodyTimeoutMs = Math.max(1, bodyTimeout.toMillis());
        this.keepAliveHeader = "timeout=" + announcedSeconds(keepAlive);
    }

    /**
     * The idle time announced to clients for a kept connection: {@code keepAlive} less a margin (5 s, or half of
     * it when shorter than 10 s), in whole seconds, at least 1.
     */
    static long announcedSeconds(Duration keepAlive) {
        Duration margin =
                keepAlive.compareTo(Duration.ofSeconds(10)) >= 0 ? Duration.ofSeconds(5) : keepAlive.dividedBy(2);
        return Math.max(1, keepAlive.minus(margin).toSeconds());
    }

    /** Open connections, by remote address too; one object per server process. */
    public static final class Counts {
        private final int max;
        private final int maxPerAddress;
        private final AtomicInteger total = new AtomicInteger();
        private final ConcurrentHashMap<String, Integer> perAddress = new ConcurrentHashMap<>();

        public Counts(int max, int maxPerAddress) {
            this.max = max;
            this.maxPerAddress = maxPerAddress;
        }

        public Counts(ServerConfig.Http config) {
            this(config.maxConnections(), config.maxConnectionsPerAddress());
        }

        /** Counts a new connection in, or answers why it is refused (then nothing is counted). */
        String open(String address) {
            if (total.incrementAndGet() > max) {
                total.decrementAndGet();
                return "max_connections";
            }
            boolean[] admitted = {false};
            perAddress.compute(address, (a, n) -> {
                int open = n == null ? 0 : n;
                if (open >= maxPerAddress) {
                    return n;
                }
                admitted[0] = true;
                return open + 1;
            });
            if (!admitted[0]) {
                total.decrementAndGet();
                return "max_connections_per_address";
            }
            return null;
        }

        void close(String address) {
            total.decrementAndGet();
            perAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
        }

        /** Open connections now. */
        int open() {
            return total.get();
        }

        /** Addresses with open connections now (the map holds no other). */
        int addresses() {
            return perAddress.size();
        }
    }

    private static final class State {
        long timer = -1;
        int inFlight;
    }

    /** For {@code HttpServer.connectionHandler}: counts the connection in or closes it; starts its header clock. */
    Handler<HttpConnection> connectionHandler() {
        return conn -> {
            SocketAddress remote = conn.remoteAddress();
            String address =
                    remote == null ? "?" : remote.hostAddress() != null ? remote.hostAddress() : remote.toString();
            String refused = counts.open(address);
            if (refused != null) {
                Meters.connectionClosed(refused);
                conn.close();
                return;
            }
            State state = new State();
            connections.put(conn, state);
            conn.closeHandler(v -> {
                counts.close(address);
                State gone = connections.remove(conn);
                if (gone != null) {
                    vertx.cancelTimer(gone.timer);
                }
            });
            arm(conn, state, headerTimeoutMs, "header_timeout", null);
        };
    }

    /** Wraps the server's request handler: the head has arrived; the body must follow in time. */
    Handler<HttpServerRequest> requests(Handler<HttpServerRequest> next) {
        return request -> {
            HttpConnection conn = request.connection();
            State state = connections.get(conn);
            if (state == null) { // refused by a cap (a request it had already sent is not served)
                conn.close();
                return;
            }
            state.inFlight++;
            arm(conn, state, bodyTimeoutMs, "body_timeout", request);
            // the JDK's HttpURLConnection (the agent) reads Keep-Alive's timeout only beside Connection: keep-alive
            request.response().putHeader(HttpHeaders.CONNECTION, "keep-alive").putHeader("Keep-Alive", keepAliveHeader);
            next.handle(request);
        };
    }

    /** The answer to a request of {@code conn} has ended: the next request's head must come within the keep-alive. */
    void answered(HttpConnection conn) {
        State state = connections.get(conn);
        if (state != null && --state.inFlight <= 0) {
            state.inFlight = 0;
            arm(conn, state, keepAliveMs, "idle_timeout", null);
        }
    }

    /** Replaces the connection's deadline; for a body deadline, a request whose body has ended is left alone. */
    private void arm(HttpConnection conn, State state, long delayMs, String reason, HttpServerRequest request) {
        vertx.cancelTimer(state.timer);
        state.timer = vertx.setTimer(delayMs, id -> {
            if (connections.get(conn) == state && state.timer == id && (request == null || !request.isEnded())) {
                Meters.connectionClosed(reason);
                conn.close();
            }
        });
    }
}
