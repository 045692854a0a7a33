package io.dozor.server.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A token bucket per agent id: up to {@code burst} tokens, refilled at {@code ratePerSecond}; a request
 * takes as many as it carries events. One object is shared by every {@link IngestVerticle} instance of a
 * server (the buckets are per process: several servers behind a balancer each allow the rate). Thread-safe:
 * each bucket changes only inside {@link ConcurrentHashMap#compute}.
 *
 * <p>Bounded: a bucket that has refilled to {@code burst} is the same as no bucket, so such buckets are
 * removed by a sweep every {@value #SWEEP_EVERY} takes; what stays is one bucket per agent heard from within
 * the last {@code burst / rate} seconds.
 */
public final class AgentBuckets {
    static final int SWEEP_EVERY = 1_024;
    private static final long NANOS = 1_000_000_000L;

    private final double ratePerSecond;
    private final long burst;
    private final LongSupplier nanoTime;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final AtomicLong takes = new AtomicLong();

    /** {@code ratePerSecond = 0}: no limit (nothing is kept). */
    public AgentBuckets(double ratePerSecond, long burst, LongSupplier nanoTime) {
        if (ratePerSecond < 0 || burst < 1) {
            throw new IllegalArgumentException("rate must be >= 0 and burst >= 1");
        }
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
        this.nanoTime = nanoTime;
    }

    public AgentBuckets(double ratePerSecond, long burst) {
        this(ratePerSecond, burst, System::nanoTime);
    }

    private static final class Bucket {
        double tokens;
        long at;

        Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }
    }

    /**
     * Takes {@code n} tokens from the agent's bucket. Answers 0 when they were taken, otherwise (nothing taken)
     * how many nanoseconds from now the bucket will hold {@code n}. {@code n} above the burst is cut to it.
     */
    public long take(String agentId, int n) {
        if (ratePerSecond == 0) {
            return 0;
        }
        long now = nanoTime.getAsLong();
        double wanted = Math.min(Math.max(n, 1), burst);
        long[] wait = new long[1];
        buckets.compute(agentId, (id, b) -> {
            if (b == null) {
                b = new Bucket(burst, now);
            } else {
                refill(b, now);
            }
            wait[0] = nanosUntil(b, wanted);
            if (wait[0] == 0) {
                b.tokens -= wanted;
            }
            return b;
        });
        if (takes.incrementAndGet() % SWEEP_EVERY == 0) {
            sweep();
        }
        return wait[0];
    }

    /** How many nanoseconds from now the agent's bucket will hold {@code n} tokens (0: now); takes nothing. */
    public long waitFor(String agentId, int n) {
        if (ratePerSecond == 0) {
            return 0;
        }
        long now = nanoTime.getAsLong();
        double wanted = Math.min(Math.max(n, 1), burst);
        long[] wait = new long[1];
        buckets.computeIfPresent(agentId, (id, b) -> {
            refill(b, now);
            wait[0] = nanosUntil(b, wanted);
            return b;
        });
        return wait[0];
    }

    /** 0 when the (refilled) bucket holds {@code wanted} tokens, else the nanoseconds until it will (at least 1). */
    private long nanosUntil(Bucket b, double wanted) {
        return b.tokens >= wanted ? 0 : Math.max(1, (long) Math.ceil((wanted - b.tokens) / ratePerSecond * NANOS));
    }

    private void refill(Bucket b, long now) {
        if (now > b.at) {
            b.tokens = Math.min(burst, b.tokens + (now - b.at) * ratePerSecond / NANOS);
            b.at = now;
        }
    }

    /** Removes the buckets that are full again. */
    void sweep() {
        long now = nanoTime.getAsLong();
        for (String id : buckets.keySet()) {
            buckets.computeIfPresent(id, (k, b) -> {
                refill(b, now);
                return b.tokens >= burst ? null : b;
            });
        }
    }

    /** How many buckets are kept (for tests and the bound). */
    int size() {
        return buckets.size();
    }
}
