package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void doublesFromOneSecondUpToSixtySeconds() {
        Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), () -> 0.5);

        List<Long> seconds = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            seconds.add(backoff.next().toSeconds());
        }

        assertThat(seconds).containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 60L, 60L, 60L);
    }

    @Test
    void jitterStaysWithinTwentyPercentAndNeverExceedsTheMaximum() {
        Backoff low = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), () -> 0.0);
        Backoff high = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), () -> 0.999999);

        assertThat(low.next()).isEqualTo(Duration.ofMillis(800));
        assertThat(high.next()).isEqualTo(Duration.ofMillis(1200));
        for (int i = 0; i < 40; i++) {
            assertThat(high.next()).isLessThanOrEqualTo(Duration.ofSeconds(60));
        }
    }

    @Test
    void resetStartsOverFromTheInitialDelay() {
        Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), () -> 0.5);
        backoff.next();
        backoff.next();

        backoff.reset();

        assertThat(backoff.next()).isEqualTo(Duration.ofSeconds(1));
    }
}
