package io.dozor.server.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import java.time.OffsetDateTime;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EcsDocumentTest {
    static StoredEvent at(OffsetDateTime time) {
        return new StoredEvent(7, "pc-1", new LaunchEvent(UUID.randomUUID(), time, "ivanov", "a.exe", 1L, null, null));
    }

    @Test
    void theMonthIndexIsTheUtcMonth() {
        assertThat(EcsDocument.index("dozor", at(OffsetDateTime.parse("2026-12-01T01:00:00+03:00"))))
                .isEqualTo("dozor-2026.11");
        assertThat(EcsDocument.unindexable(at(OffsetDateTime.parse("2026-12-01T01:00:00+03:00"))))
                .isEmpty();
        assertThat(EcsDocument.unindexable(at(OffsetDateTime.parse("0000-01-01T00:00:00Z"))))
                .isEmpty();
        assertThat(EcsDocument.unindexable(at(OffsetDateTime.parse("9999-12-31T23:59:59Z"))))
                .isEmpty();
    }

    /** Anything PostgreSQL can store builds a document and an index name; outside 0000–9999 it says why it is not sent. */
    @Test
    void extremeButStorableTimesNeverThrowAndAreNamedUnindexable() {
        for (String time : new String[] {
            "+294276-12-31T23:59:59.999999Z",
            "-4713-11-24T00:00:00Z",
            "9999-12-31T23:59:59-18:00",
            "+999999999-12-31T23:59:59.999999999-18:00",
            "-999999999-01-01T00:00:00+18:00"
        }) {
            StoredEvent event = at(OffsetDateTime.parse(time));
            assertThat(EcsDocument.of(event)).as(time).containsKey("@timestamp");
            assertThat(EcsDocument.index("dozor", event)).as(time).startsWith("dozor-");
            assertThat(EcsDocument.unindexable(event))
                    .as(time)
                    .hasValueSatisfying(why -> assertThat(why).contains("outside the years 0000-9999"));
        }
    }
}
