package io.dozor.server.outbox;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with jitter: 1 s, 2 s, 4 s … capped at 5 minutes, each scaled by 50–100 %. */
public final class Backoff {
    static final Duration BASE = Duration.ofSeconds(1);
    static final Duration MAX = Duration.ofMinutes(5);

    private Backoff() {}

    public static Duration after(int failedAttempts) {
        long ceiling = Math.min(MAX.toMillis(), BASE.toMillis() << Math.min(failedAttempts, 20));
        return Duration.ofMillis(ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1));
    }
}
