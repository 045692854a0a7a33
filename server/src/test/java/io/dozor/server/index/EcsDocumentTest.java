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

    /** The document is written field by field: what needs escaping in JSON must come back exactly as it was. */
    @Test
    void stringsThatNeedEscapingComeBackAsTheyWere() {
        String nasty = "a\"b\\c\nd\te\u0001f</script>\u2028g Иванов 🚀 \\\"";
        LaunchEvent launch = new LaunchEvent(
                UUID.randomUUID(),
                OffsetDateTime.parse("2026-12-01T01:00:00+03:00"),
                nasty,
                nasty + ".exe",
                -1L,
                "C:\\" + nasty,
                nasty,
                new LaunchEvent.Context(Long.MAX_VALUE, nasty, nasty, nasty, nasty, nasty));
        var doc = new io.vertx.core.json.JsonObject(EcsDocument.of(new StoredEvent(7, nasty, launch)));

        assertThat(doc.getJsonObject("user").getString("name")).isEqualTo(nasty);
        assertThat(doc.getJsonObject("user").getString("domain")).isEqualTo(nasty);
        assertThat(doc.getJsonObject("process").getString("name")).isEqualTo(nasty + ".exe");
        assertThat(doc.getJsonObject("process").getLong("pid")).isEqualTo(-1L);
        assertThat(doc.getJsonObject("process").getString("executable")).isEqualTo("C:\\" + nasty);
        assertThat(doc.getJsonObject("process").getJsonObject("parent").getLong("pid"))
                .isEqualTo(Long.MAX_VALUE);
        assertThat(doc.getJsonObject("process").getJsonObject("parent").getString("name"))
                .isEqualTo(nasty);
        assertThat(doc.getJsonObject("host").getString("hostname")).isEqualTo(nasty);
        assertThat(doc.getJsonObject("host").getJsonObject("os").getString("family"))
                .isEqualTo(nasty);
        assertThat(doc.getJsonObject("agent").getString("id")).isEqualTo(nasty);
        assertThat(doc.getJsonObject("agent").getString("version")).isEqualTo(nasty);
    }

    /** Optional fields the agent did not send are absent, not null, and so are objects left empty. */
    @Test
    void unknownFieldsAndEmptyObjectsAreLeftOut() {
        var doc = new io.vertx.core.json.JsonObject(
                EcsDocument.of(at(OffsetDateTime.parse("2026-12-01T01:00:00+03:00"))));

        assertThat(doc.getJsonObject("process").fieldNames()).containsExactly("name", "pid");
        assertThat(doc.containsKey("host")).isFalse();
        assertThat(doc.getJsonObject("user").fieldNames()).containsExactly("name");
        assertThat(doc.getJsonObject("agent").fieldNames()).containsExactly("id", "type");
        assertThat(doc.getJsonObject("event").containsKey("ingested")).isFalse();
    }
}
