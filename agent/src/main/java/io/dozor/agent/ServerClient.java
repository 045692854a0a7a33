package io.dozor.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;

/**
 * JSON {@code POST}s to the server with the agent token, over the JDK's {@link HttpURLConnection} (HTTP/1.1,
 * connections kept alive and reused, idle ones for as long as the server's {@code Keep-Alive} says or else
 * {@value #KEEP_ALIVE_SECONDS} s once {@link #keepIdleConnections} ran; no proxy, no redirects). Not
 * {@code java.net.http.HttpClient}: the agent sends one request at a time from its own threads, and that client's
 * asynchronous machinery (~300 classes and a selector thread) was a measurable part of the agent's memory
 * (BENCHMARKS.md). For https, trust is the given {@link SSLContext} and the host name is checked against the
 * certificate. The JDK may send a POST again, once, when a kept-alive connection turns out to be closed before any
 * answer: the server stores a resent event id once. A blocked read ends at the timeout, not at an interrupt:
 * {@link #abort} ends it sooner.
 */
final class ServerClient {

    /**
     * The JDK's system property (JDK 20+) for how long an idle connection to a server is kept when the server's
     * answer does not say ({@code Keep-Alive: timeout=N} counts only with {@code Connection: keep-alive}).
     */
    static final String KEEP_ALIVE_PROPERTY = "http.keepAlive.time.server";
    /**
     * Idle seconds a connection is kept by default: above the default heartbeat interval (60 s), so that one TLS
     * connection serves heartbeat after heartbeat, and below the idle timeouts of common NATs and load balancers
     * (4 minutes and more), which may drop a connection without a word.
     */
    static final int KEEP_ALIVE_SECONDS = 120;

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_BODY = 64 * 1024;
    /** Bodies up to this size are sent from the JDK's buffer, larger ones streamed. */
    private static final int BUFFERED_BODY = 64 * 1024;

    /** The longest {@code Retry-After} the agent waits, whatever the server says. */
    static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(10);

    /** The status, the body (at most {@value #MAX_BODY} bytes of it) and the {@code Retry-After} header, or null. */
    record Response(int status, String body, String retryAfter) {

        /**
         * {@code Retry-After} in seconds, at most {@link #MAX_RETRY_AFTER}; empty when there is none, it is
         * negative or it is an HTTP date (the caller's backoff applies then).
         */
        Optional<Duration> retryAfterDelay() {
            if (retryAfter == null) {
                return Optional.empty();
            }
            try {
                long seconds = Long.parseLong(retryAfter.trim());
                if (seconds < 0) {
                    return Optional.empty();
                }
                Duration d = Duration.ofSeconds(seconds);
                return Optional.of(d.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : d);
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
    }

    private final URI serverUrl;
    private Credentials credentials;
    private final SSLSocketFactory tls;
    private final Set<HttpURLConnection> inFlight = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicBoolean refused = new java.util.concurrent.atomic.AtomicBoolean();
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ServerClient.class);

    /**
     * @param serverUrl  base URL of the server
     * @param token      agent token, sent as {@code Authorization: Bearer}, or null to set the credentials later
     * @param sslContext TLS trust for https, or null for the JDK default
     */
    ServerClient(URI serverUrl, String token, SSLContext sslContext) {
        this.serverUrl = serverUrl;
        this.credentials = token == null ? null : Credentials.fixed(token);
        this.tls = sslContext == null ? null : sslContext.getSocketFactory();
    }

    /**
     * Makes the JDK keep idle connections {@value #KEEP_ALIVE_SECONDS} s instead of 5 s when the server does not
     * say how long (unless {@value #KEEP_ALIVE_PROPERTY} is set already); a server's own timeout still wins, and a
     * connection the server closed sooner is noticed before reuse (the JDK peeks at it) and replaced. Call at
     * start, before any HTTP request: the JDK reads the property once.
     */
    static void keepIdleConnections() {
        if (System.getProperty(KEEP_ALIVE_PROPERTY) == null) {
            System.setProperty(KEEP_ALIVE_PROPERTY, Integer.toString(KEEP_ALIVE_SECONDS));
        }
    }

    /** Where {@link #post}'s {@code Authorization} comes from (an enrolled agent's renewed access tokens). */
    ServerClient withCredentials(Credentials credentials) {
        this.credentials = credentials;
        return this;
    }

    /** {@code path} under the server's base URL. */
    URI endpoint(String path) {
        String base = serverUrl.toString();
        return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path);
    }

    /**
     * POSTs {@code json} to {@code endpoint} with the agent's credential; an IOException when there is no
     * answer within the timeouts. A 401 to a renewable credential is retried once with a renewed one; a
     * credential the server refuses outright is answered as a 401 without a request.
     */
    Response post(URI endpoint, byte[] json, Duration timeout) throws IOException {
        try {
            String authorization = credentials.authorization();
            Response response = send(endpoint, json, timeout, authorization);
            if (response.status() == 401 && credentials.rejected(authorization)) {
                response = send(endpoint, json, timeout, credentials.authorization());
            }
            return noted(response);
        } catch (Credentials.Refused e) {
            return noted(new Response(401, e.getMessage(), null));
        }
    }

    /** One line when the server starts refusing the credential (whichever request saw it), one when it stops. */
    private Response noted(Response response) {
        if (response.status() == 401) {
            if (refused.compareAndSet(false, true)) {
                log.error(
                        "the server refuses this agent's credential (revoked, expired or unknown); events stay in"
                                + " the spool and are retried; an administrator must issue a new token or let the agent"
                                + " enrol again [url={}, detail={}]",
                        serverUrl,
                        EventShipper.abbreviate(response.body()));
            }
        } else if (response.status() / 100 == 2 && refused.compareAndSet(true, false)) {
            log.info("the server accepts this agent's credential again [url={}]", serverUrl);
        }
        return response;
    }

    /** One POST with the given {@code Authorization} header value (none when null). */
    Response send(URI endpoint, byte[] json, Duration timeout, String authorization) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) endpoint.toURL().openConnection(Proxy.NO_PROXY);
        if (tls != null && connection instanceof HttpsURLConnection https) {
            https.setSSLSocketFactory(tls);
        }
        connection.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
        connection.setReadTimeout((int) timeout.toMillis());
        connection.setInstanceFollowRedirects(false);
        connection.setUseCaches(false);
        connection.setRequestMethod("POST");
        if (authorization != null) {
            connection.setRequestProperty("Authorization", authorization);
        }
        connection.setRequestProperty("Content-Type", "application/json");
        connection.setDoOutput(true);
        if (json.length > BUFFERED_BODY) {
            connection.setFixedLengthStreamingMode(json.length);
        } // else buffered: in streaming mode the JDK hides a 401's body, which says why the credential was refused
        inFlight.add(connection);
        try {
            try (OutputStream out = connection.getOutputStream()) {
                out.write(json);
            }
            int status = connection.getResponseCode();
            String retryAfter = connection.getHeaderField("Retry-After");
            // reading the body to its end is what lets the connection be reused
            InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
            return new Response(status, in == null ? "" : readBody(in), retryAfter);
        } catch (IOException e) {
            connection.disconnect(); // a broken connection must not go back to the keep-alive cache
            throw e;
        } finally {
            inFlight.remove(connection);
        }
    }

    /** Closes the connections of the requests under way: their threads get an IOException at once. */
    void abort() {
        inFlight.forEach(HttpURLConnection::disconnect);
    }

    private static String readBody(InputStream in) throws IOException {
        try (in) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (body.size() < MAX_BODY) {
                    body.write(buffer, 0, Math.min(n, MAX_BODY - body.size()));
                }
            }
            return body.toString(StandardCharsets.UTF_8);
        }
    }
}
