package io.dozor.server.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dozor.server.http.BadRequest;
import io.dozor.server.http.EventBatchParser;
import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The monthly indices an event can create are bounded by ingest's timestamp window: at most one per month
 * from 2000-01 to the month of now + the skew (seen before the window: one 30-event batch made 30 indices).
 */
class IndexWindowTest {
    static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    static final EventBatchParser PARSER = new EventBatchParser(Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofDays(1));
    static final ZoneOffset[] OFFSETS = {
        ZoneOffset.ofHours(-18),
        ZoneOffset.ofHours(-12),
        ZoneOffset.UTC,
        ZoneOffset.ofHours(3),
        ZoneOffset.ofHours(14),
        ZoneOffset.ofHours(18)
    };

    static JsonObject event(OffsetDateTime time) {
        return new JsonObject()
                .put("event_id", UUID.randomUUID().toString())
                .put("timestamp", time.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
                .put("username", "ivanov")
                .put("process_name", "chrome.exe");
    }

    /** The indices of what the parser accepts among {@code times}, one event per batch (a refusal is per batch). */
    static Set<String> indicesOfAccepted(List<OffsetDateTime> times) {
        Set<String> names = new TreeSet<>();
        for (OffsetDateTime t : times) {
            try {
                for (LaunchEvent e : PARSER.parse(new JsonObject()
                        .put("events", new JsonArray().add(event(t)))
                        .toBuffer())) {
                    names.add(EcsDocument.index("dozor-events", new StoredEvent(1, "pc-01", e)));
                }
            } catch (BadRequest refused) {
                // outside the window
            }
        }
        return names;
    }

    static Set<String> monthsOfTheWindow() {
        Set<String> names = new TreeSet<>();
        YearMonth last = YearMonth.from(PARSER.latest().atOffset(ZoneOffset.UTC));
        for (YearMonth m = YearMonth.of(2000, 1); !m.isAfter(last); m = m.plusMonths(1)) {
            names.add(String.format("dozor-events-%04d.%02d", m.getYear(), m.getMonthValue()));
        }
        return names;
    }

    @Test
    void everyAcceptedTimestampMapsToAMonthOfTheWindow() {
        List<OffsetDateTime> times = new ArrayList<>();
        // a sweep of the window and a little beyond, every 61 hours, at offsets from -18:00 to +18:00
        for (Instant t = EventBatchParser.EARLIEST.minus(Duration.ofDays(40));
                t.isBefore(NOW.plus(Duration.ofDays(40)));
                t = t.plus(Duration.ofHours(61))) {
            times.add(t.atOffset(OFFSETS[times.size() % OFFSETS.length]));
        }
        // the edges, exactly and one millisecond outside, at every offset
        for (ZoneOffset offset : OFFSETS) {
            for (Instant edge : List.of(EventBatchParser.EARLIEST, PARSER.latest())) {
                times.add(edge.atOffset(offset));
                times.add(edge.minusMillis(1).atOffset(offset));
                times.add(edge.plusMillis(1).atOffset(offset));
            }
        }
        // and anything at all that java.time can write, from year -999999999 to +999999999
        Random random = new Random(7);
        for (int i = 0; i < 5_000; i++) {
            long seconds = OffsetDateTime.MIN.toEpochSecond()
                    + (long) (random.nextDouble()
                            * (OffsetDateTime.MAX.toEpochSecond() - OffsetDateTime.MIN.toEpochSecond()));
            times.add(Instant.ofEpochSecond(seconds).atOffset(OFFSETS[i % OFFSETS.length]));
        }

        Set<String> reached = indicesOfAccepted(times);

        Set<String> window = monthsOfTheWindow();
        assertThat(window).hasSize(27 * 12).first().isEqualTo("dozor-events-2000.01");
        assertThat(window).last().isEqualTo("dozor-events-2026.12");
        assertThat(reached).isEqualTo(window);
    }

    @Test
    void aBatchSpreadOverThirtyYearsIsRefusedWhole() {
        JsonArray events = new JsonArray();
        for (int year = 2020; year < 2050; year++) {
            events.add(event(OffsetDateTime.of(year, 6, 1, 0, 0, 0, 0, ZoneOffset.UTC)));
        }
        Buffer body = new JsonObject().put("events", events).toBuffer();
        assertThatThrownBy(() -> PARSER.parse(body))
                .isInstanceOf(BadRequest.class)
                .hasMessageStartingWith("events[7].timestamp: must be between");
    }
}
