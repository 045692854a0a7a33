package io.dozor.server.http;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * At most {@code max} agent requests (event batches and heartbeats) being served at once by a server process, all
 * {@link IngestVerticle} instances together ({@code ingest.max_in_flight}). One more is refused with 429 and a
 * {@code Retry-After} of 1 to 5 s (spread, so that refused agents do not come back together) before it costs a
 * database query. The bound keeps a burst of thousands of agents from queueing more work on the PostgreSQL pool
 * than it can finish within the agents' timeouts: beyond it they would all be answered 503 after waiting, now the
 * excess is told at once to come back, and the work admitted finishes in time.
 */
final class InFlight {
    static final int MIN_RETRY_AFTER_S = 1;
    static final int MAX_RETRY_AFTER_S = 5;

    private final int max;
    private final AtomicInteger current = new AtomicInteger();

    /** {@code max = 0}: no bound. */
    InFlight(int max) {
        this.max = max;
    }

    /** True when the request may be served; it then counts until {@link #leave}. */
    boolean enter() {
        if (max == 0) {
            return true;
        }
        if (current.incrementAndGet() > max) {
            current.decrementAndGet();
            return false;
        }
        return true;
    }

    void leave() {
        if (max != 0) {
            current.decrementAndGet();
        }
    }

    /** The wait told to a refused agent: 1 to 5 s, at random. */
    static long retryAfterNanos() {
        return ThreadLocalRandom.current().nextLong(MIN_RETRY_AFTER_S, MAX_RETRY_AFTER_S + 1) * 1_000_000_000L;
    }
}
