package io.dozor.agent;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST {url}/api/v1/heartbeat} with the version, host name, spool depth, the dropped and
 * unpersisted counts and the spool's error; the
 * server keeps the last one per agent (for {@code /status} and the silent-agent alert). A failed heartbeat
 * is logged at debug only: the shipper already says when the server is unreachable.
 *
 * <p>Pace: one heartbeat every {@code heartbeat_interval_s}, counted from the start of one to the start of the
 * next. After a failure (no answer, 5xx, 429, 401, any answer but 2xx) the next one waits longer: twice the
 * interval, then 4×, 8× ... up to {@link #maxWait the cap} (10× the interval, at most 10 minutes, never less
 * than the interval), each wait ±20 % at random so that a fleet refused at once does not come back at once. A
 * {@code Retry-After} on a 429 or 5xx is a lower bound on that wait (itself at most 10 minutes). A 2xx brings
 * back the interval. So heartbeats are never more frequent than the interval, and an overloaded or refusing
 * server gets fewer of them; 10 minutes stays below the server's default silent-agent alert (15 minutes).
 */
final class Heartbeat {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);
    /** The longest wait after failures, unless the interval itself is longer. */
    static final Duration MAX_BACKOFF = Duration.ofMinutes(10);
    /** The longest wait after failures, in intervals. */
    static final int MAX_BACKOFF_INTERVALS = 10;

    /**
     * What a heartbeat says.
     *
     * @param unpersistedEvents launches lost because the spool could not store them
     * @param spoolError        why the spool cannot store events now ({@code disk full}, ...), null while it works
     */
    record Report(
            String version,
            String hostname,
            long spoolDepth,
            long droppedEvents,
            long unpersistedEvents,
            String spoolError) {}

    private final ServerClient client;
    private final URI endpoint;
    private final Supplier<Report> report;
    private final Duration interval;
    private final Backoff backoff;
    private final Ticker ticker;

    Heartbeat(ServerClient client, Supplier<Report> report, Duration interval) {
        this(
                client,
                report,
                interval,
                Ticker.SYSTEM,
                () -> ThreadLocalRandom.current().nextDouble());
    }

    /**
     * @param ticker measures how long a heartbeat took (the wait is counted from its start)
     * @param random the backoff's jitter, values in [0, 1)
     */
    Heartbeat(ServerClient client, Supplier<Report> report, Duration interval, Ticker ticker, DoubleSupplier random) {
        this.client = client;
        this.endpoint = client.endpoint("/api/v1/heartbeat");
        this.report = report;
        this.interval = interval;
        this.ticker = ticker;
        Duration max = maxWait(interval);
        Duration first = interval.multipliedBy(2);
        this.backoff = new Backoff(first.compareTo(max) > 0 ? max : first, max, random);
    }

    /** The longest wait after failures: 10× the interval, at most 10 minutes, but never below the interval. */
    static Duration maxWait(Duration interval) {
        Duration max = interval.multipliedBy(MAX_BACKOFF_INTERVALS);
        if (max.compareTo(MAX_BACKOFF) > 0) {
            max = MAX_BACKOFF;
        }
        return max.compareTo(interval) < 0 ? interval : max;
    }

    /**
     * Sends a heartbeat now, and the next ones on {@code executor} at the pace above, until the executor is shut
     * down (a heartbeat under way then ends at its timeout, and no other follows).
     */
    void start(ScheduledExecutorService executor) {
        executor.execute(() -> beatAndReschedule(executor));
    }

    private void beatAndReschedule(ScheduledExecutorService executor) {
        Duration wait = beat();
        try {
            executor.schedule(() -> beatAndReschedule(executor), wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("heartbeats stopped");
        }
    }

    /** Sends one heartbeat and returns the wait before the next one, from now. */
    Duration beat() {
        long started = ticker.nanos();
        Duration wait = waitAfter(send());
        Duration left = wait.minusNanos(ticker.nanos() - started);
        return left.isNegative() ? Duration.ZERO : left;
    }

    /** The wait from the start of a heartbeat that got {@code response} (null: none) to the start of the next. */
    private Duration waitAfter(ServerClient.Response response) {
        if (response != null && response.status() / 100 == 2) {
            backoff.reset();
            return interval;
        }
        Duration wait = backoff.next();
        if (response != null && (response.status() == 429 || response.status() >= 500)) {
            Duration asked = response.retryAfterDelay().orElse(Duration.ZERO);
            wait = asked.compareTo(wait) > 0 ? asked : wait;
        }
        wait = wait.compareTo(interval) < 0 ? interval : wait; // the jitter of a cap equal to the interval
        log.debug(
                "next heartbeat after a failure [status={}, wait_s={}]",
                response == null ? "none" : response.status(),
                wait.toSeconds());
        return wait;
    }

    /** Sends one heartbeat; the answer, or null when there was none (or the report could not be made). */
    private ServerClient.Response send() {
        try {
            Report now = report.get();
            ServerClient.Response response = client.post(endpoint, EventJson.heartbeat(now), REQUEST_TIMEOUT);
            if (response.status() / 100 == 2) {
                log.debug("heartbeat sent [spool_depth={}, dropped_events={}]", now.spoolDepth(), now.droppedEvents());
            } else {
                log.debug("heartbeat refused [status={}]", response.status());
            }
            return response;
        } catch (IOException e) {
            log.debug("heartbeat failed [error={}]", e.toString());
        } catch (RuntimeException e) { // the schedule must go on
            log.warn("heartbeat failed [error={}]", e.toString(), e);
        }
        return null;
    }
}
