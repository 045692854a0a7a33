package io.dozor.agent;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/** Exponential backoff with ±20 % jitter: about 1 s, 2 s, 4 s ... up to the maximum. */
final class Backoff {

    private final Duration initial;
    private final Duration max;
    private final DoubleSupplier random;
    private int attempts;

    Backoff(Duration initial, Duration max) {
        this(initial, max, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** {@code random} yields values in [0, 1). */
    Backoff(Duration initial, Duration max, DoubleSupplier random) {
        this.initial = initial;
        this.max = max;
        this.random = random;
    }

    /** The delay before the next attempt. */
    Duration next() {
        long base = initial.toMillis() << Math.min(attempts, 30);
        if (base <= 0 || base > max.toMillis()) {
            base = max.toMillis();
        }
        attempts++;
        long jittered = Math.round(base * (0.8 + 0.4 * random.getAsDouble()));
        return Duration.ofMillis(Math.min(jittered, max.toMillis()));
    }

    Duration initial() {
        return initial;
    }

    void reset() {
        attempts = 0;
    }
}
