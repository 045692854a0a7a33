package io.dozor.server.retention;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.YearMonth;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Verifies which months go and which names are ours to drop. */
class RetentionMonthsTest {
    @Test
    void aMonthGoesOnlyWhenAllOfItIsBeforeTheCutoff() {
        Instant cutoff = Instant.parse("2026-06-01T00:00:00Z");
        assertThat(Retention.past(YearMonth.of(2026, 5), cutoff)).isTrue();
        assertThat(Retention.past(YearMonth.of(2026, 6), cutoff)).isFalse();
        assertThat(Retention.past(YearMonth.of(2026, 5), cutoff.minusMillis(1))).isFalse();
        assertThat(Retention.past(YearMonth.of(2003, 1), cutoff)).isTrue();
    }

    @Test
    void onlyExactPartitionAndIndexNamesAreRecognised() {
        assertThat(Retention.partitionMonth("events_p2026_05")).contains(YearMonth.of(2026, 5));
        assertThat(Retention.partitionMonth("events_default")).isEmpty();
        assertThat(Retention.partitionMonth("events_p2026_05_old")).isEmpty();
        assertThat(Retention.partitionName(YearMonth.of(2003, 2))).isEqualTo("events_p2003_02");
        assertThat(Retention.indexMonth("dozor-events", "dozor-events-2026.05")).contains(YearMonth.of(2026, 5));
        assertThat(Retention.indexMonth("dozor-events", "dozor-events-eu-2026.05"))
                .isEmpty();
        assertThat(Retention.indexMonth("dozor-events", "dozor-events-2026.13")).isEqualTo(Optional.empty());
        assertThat(Retention.indexMonth("dozor-events", "dozor-events-2026.05-restored"))
                .isEmpty();
        assertThat(Retention.indexMonth("dozor", "dozor-logs-2026.05.01")).isEmpty();
    }
}
