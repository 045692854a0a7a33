package io.dozor.agent;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends queued events to {@code POST {url}/api/v1/events} on its own thread, in batches of at most
 * {@value #MAX_BATCH}. A batch leaves the queue only when the server stored it (2xx) or refused it for good
 * (400, 413). Otherwise (no connection, 429, 5xx, 401, other answers) it stays and is retried with
 * exponential backoff, or after {@code Retry-After} seconds when the server gives them. The state changes
 * are logged once: a WARN when the server becomes unreachable, an INFO when it is back.
 */
public final class EventShipper implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EventShipper.class);

    public static final int MAX_BATCH = 500;
    static final Duration BACKOFF_START = Duration.ofSeconds(1);
    static final Duration BACKOFF_MAX = Duration.ofSeconds(60);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_LOGGED_BODY = 500;

    private enum State {
        OK,
        UNREACHABLE,
        REJECTED
    }

    /** What to do after one attempt. */
    record Outcome(boolean removeBatch, Duration retryAfter) {
        static final Outcome DONE = new Outcome(true, null);

        boolean retry() {
            return retryAfter != null;
        }
    }

    private final ServerClient client;
    private final URI endpoint;
    private final EventQueue queue;
    private final Duration flushInterval;
    private final Backoff backoff;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;
    private State state = State.OK;

    /** From the agent settings: trusts only {@code ca_file} for https. */
    public EventShipper(AgentConfig config, EventQueue queue) {
        this(config, queue, Agent.localHostname(), CredentialProtectors.forThisSystem());
    }

    /**
     * With {@code [server] enrollment_token} the agent enrols as {@code hostname} and keeps its credential in
     * the spool directory, protected by {@code protector}.
     */
    EventShipper(AgentConfig config, EventQueue queue, String hostname, CredentialProtector protector) {
        this(
                config.serverUrl(),
                config.token(),
                sslContext(config.caFile()),
                queue,
                config.pollInterval(),
                new Backoff(BACKOFF_START, BACKOFF_MAX));
        if (config.enrollmentToken() != null) {
            client.withCredentials(new EnrolledCredentials(
                    client,
                    config.enrollmentToken(),
                    new CredentialStore(config.spoolDir(), protector),
                    hostname,
                    System.getProperty("os.name", "unknown") + " " + System.getProperty("os.version", ""),
                    System::nanoTime));
        }
    }

    /**
     * @param serverUrl     base URL of the server
     * @param token         agent token, sent as {@code Authorization: Bearer}
     * @param sslContext    TLS trust for https, or null for the JDK default
     * @param queue         where events wait
     * @param flushInterval longest wait between two looks at the queue
     */
    EventShipper(
            URI serverUrl,
            String token,
            SSLContext sslContext,
            EventQueue queue,
            Duration flushInterval,
            Backoff backoff) {
        this.client = new ServerClient(serverUrl, token, sslContext);
        this.endpoint = client.endpoint("/api/v1/events");
        this.queue = queue;
        this.flushInterval = flushInterval;
        this.backoff = backoff;
        this.thread = new Thread(this::run, "dozor-shipper");
        this.thread.setDaemon(true);
    }

    /** The server client (with the TLS trust of the settings), shared with the heartbeat. */
    ServerClient client() {
        return client;
    }

    static SSLContext sslContext(Path caFile) {
        if (caFile == null) {
            return null;
        }
        try {
            return Pem.trustOnly(Pem.readCertificates(caFile));
        } catch (IOException | CertificateException e) {
            throw new IllegalStateException("cannot read certificates from " + caFile, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a trust store from " + caFile, e);
        }
    }

    public void start() {
        thread.start();
    }

    /** Whether the shipper's thread still runs (for tests). */
    boolean running() {
        return thread.isAlive();
    }

    /** Stops the thread; one last attempt is made to send what is queued if the server is reachable. */
    @Override
    public void close() {
        stop.countDown();
        try {
            thread.join(STOP_TIMEOUT.toMillis());
            if (thread.isAlive()) { // a request hangs on a server that does not answer
                thread.interrupt();
                client.abort();
                thread.join(1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            while (stop.getCount() > 0) {
                if (!queue.awaitNonEmpty(flushInterval)) {
                    continue;
                }
                Outcome outcome = sendBatch();
                if (outcome.retry() && stop.await(outcome.retryAfter().toMillis(), TimeUnit.MILLISECONDS)) {
                    break;
                }
            }
            if (state == State.OK && queue.size() > 0) {
                sendBatch();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("event shipper stopped by an unexpected error", e);
        }
    }

    /** Sends the oldest batch once and handles the answer; package-private for tests. */
    Outcome sendBatch() {
        List<LaunchEvent> batch = queue.peek(MAX_BATCH);
        if (batch.isEmpty()) {
            return Outcome.DONE;
        }
        Outcome outcome = attempt(batch);
        if (outcome.removeBatch()) {
            queue.acknowledge(batch);
        }
        return outcome;
    }

    private Outcome attempt(List<LaunchEvent> batch) {
        ServerClient.Response response;
        try {
            response = client.post(endpoint, EventJson.batch(batch), REQUEST_TIMEOUT);
        } catch (IOException e) {
            markUnreachable("error=" + e);
            return new Outcome(false, backoff.next());
        }
        int status = response.status();
        if (status >= 200 && status < 300) {
            recovered();
            log.debug("events delivered [count={}, status={}]", batch.size(), status);
            return Outcome.DONE;
        }
        if (status == 400 || status == 413) {
            recovered();
            log.error(
                    "server refused a batch for good, dropping it [status={}, count={}, body={}]",
                    status,
                    batch.size(),
                    abbreviate(response.body()));
            return Outcome.DONE;
        }
        if (status == 429 || status >= 500) {
            markUnreachable("status=" + status);
            Optional<Duration> retryAfter = response.retryAfterDelay();
            Duration wait;
            if (status == 429) {
                // a rate limit: the server says when a slot is free; honoured, but never below the first backoff
                // step ("0" must not make a busy loop)
                wait = retryAfter
                        .map(d -> d.compareTo(backoff.initial()) < 0 ? backoff.initial() : d)
                        .orElseGet(backoff::next);
            } else {
                // the server failing: its Retry-After is a lower bound on the growing backoff, so an agent does not
                // come back every few seconds for as long as the 503s last
                Duration next = backoff.next();
                wait = retryAfter.filter(d -> d.compareTo(next) > 0).orElse(next);
                if (wait.compareTo(backoff.initial()) < 0) {
                    wait = backoff.initial();
                }
            }
            return new Outcome(false, wait);
        }
        if (state != State.REJECTED) {
            if (status != 401) { // a refused credential is logged once by the client, for every kind of request
                log.error(
                        "server refused events, will retry [url={}, status={}, body={}]",
                        endpoint,
                        status,
                        abbreviate(response.body()));
            }
            state = State.REJECTED;
        }
        return new Outcome(false, backoff.next());
    }

    private void markUnreachable(String why) {
        if (state != State.UNREACHABLE) {
            log.warn("server unreachable, events kept for retry [url={}, {}, pending={}]", endpoint, why, queue.size());
            state = State.UNREACHABLE;
        } else {
            log.debug("server still unreachable [{}, pending={}]", why, queue.size());
        }
    }

    private void recovered() {
        if (state != State.OK) {
            log.info("server reachable again [url={}, pending={}]", endpoint, queue.size());
            state = State.OK;
        }
        backoff.reset();
    }

    static String abbreviate(String body) {
        String oneLine = body == null ? "" : body.replaceAll("\\s+", " ").trim();
        return oneLine.length() <= MAX_LOGGED_BODY ? oneLine : oneLine.substring(0, MAX_LOGGED_BODY) + "...";
    }
}
