package io.dozor.server.index;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** A launch as an Elasticsearch document with ECS field names; {@code _id} is the event id. */
final class EcsDocument {
    private static final DateTimeFormatter MONTH = DateTimeFormatter.ofPattern("yyyy.MM");

    private EcsDocument() {}

    /** The instants whose UTC date has a 4-digit year: what the index names and ES's date format are made for. */
    private static final Instant FIRST = Instant.parse("0000-01-01T00:00:00Z");

    private static final Instant LAST = Instant.parse("9999-12-31T23:59:59.999999999Z");

    /** Monthly indices; an event always maps to the same index, so re-indexing overwrites, never doubles. */
    static String index(String prefix, StoredEvent event) {
        return prefix + "-" + utc(event.launch().timestamp()).format(MONTH);
    }

    /**
     * Why this event cannot be indexed, if it cannot: a launch time outside the years 0000–9999 (which
     * PostgreSQL can hold, e.g. 'infinity' or year 294276, but a monthly index name and Elasticsearch's
     * date format cannot).
     */
    static Optional<String> unindexable(StoredEvent event) {
        Instant at = event.launch().timestamp().toInstant();
        if (at.isBefore(FIRST) || at.isAfter(LAST)) {
            return Optional.of("timestamp " + event.launch().timestamp() + " is outside the years 0000-9999 that "
                    + "Elasticsearch's date field and the monthly index names take");
        }
        return Optional.empty();
    }

    /**
     * The time in UTC, without throwing for any OffsetDateTime (OffsetDateTime.MAX, which is how
     * PostgreSQL's 'infinity' reads, is past the last UTC date-time): clamped to the UTC range.
     */
    static OffsetDateTime utc(OffsetDateTime time) {
        Instant at = time.toInstant();
        if (at.isAfter(UTC_MAX)) {
            return OffsetDateTime.MAX.withOffsetSameLocal(ZoneOffset.UTC);
        }
        if (at.isBefore(UTC_MIN)) {
            return OffsetDateTime.MIN.withOffsetSameLocal(ZoneOffset.UTC);
        }
        return time.withOffsetSameInstant(ZoneOffset.UTC);
    }

    private static final Instant UTC_MAX = LocalDateTime.MAX.toInstant(ZoneOffset.UTC);
    private static final Instant UTC_MIN = LocalDateTime.MIN.toInstant(ZoneOffset.UTC);

    /** The ECS version the documents follow (elasticsearch/ecs/ holds its definitions of the fields used). */
    static final String ECS_VERSION = "9.2.0";
    /** {@code agent.type} of every document: the program that reported it. */
    static final String AGENT_TYPE = "dozor";

    private static final JsonFactory JSON = new JsonFactory();

    /**
     * The document as Elasticsearch receives it: JSON written field by field, with no map per object and no
     * data binding (on the ingest benchmark the maps and their serialisation were ~13 % of the server JVM's
     * execution samples in the end-to-end phase; BENCHMARKS.md, "Ingest").
     */
    static byte[] json(StoredEvent stored) {
        LaunchEvent e = stored.launch();
        LaunchEvent.Context c = e.context();
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("@timestamp", e.timestamp().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
            g.writeObjectFieldStart("ecs");
            g.writeStringField("version", ECS_VERSION);
            g.writeEndObject();
            g.writeObjectFieldStart("event");
            g.writeStringField("id", e.eventId().toString());
            g.writeStringField("kind", "event");
            g.writeArrayFieldStart("category");
            g.writeString("process");
            g.writeEndArray();
            g.writeArrayFieldStart("type");
            g.writeString("start");
            g.writeEndArray();
            g.writeStringField("action", "process-started");
            g.writeStringField("dataset", "dozor.launch");
            if (stored.receivedAt() != null) {
                g.writeStringField("ingested", utc(stored.receivedAt()).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
            }
            g.writeEndObject();
            g.writeObjectFieldStart("user");
            g.writeStringField("name", e.username());
            stringIfKnown(g, "domain", c.userDomain());
            g.writeEndObject();
            g.writeObjectFieldStart("process");
            g.writeStringField("name", e.processName());
            numberIfKnown(g, "pid", e.pid());
            stringIfKnown(g, "executable", e.executable());
            if (c.parentPid() != null || c.parentName() != null) {
                g.writeObjectFieldStart("parent");
                numberIfKnown(g, "pid", c.parentPid());
                stringIfKnown(g, "name", c.parentName());
                g.writeEndObject();
            }
            g.writeEndObject();
            boolean os = c.osType() != null || c.osFamily() != null;
            if (e.hostname() != null || os) {
                g.writeObjectFieldStart("host");
                if (e.hostname() != null) {
                    // ECS: host.name lowercased (so it matches other sources' documents); the name as reported in
                    // hostname
                    g.writeStringField("name", e.hostname().toLowerCase(Locale.ROOT));
                    g.writeStringField("hostname", e.hostname());
                }
                if (os) {
                    g.writeObjectFieldStart("os");
                    stringIfKnown(g, "type", c.osType());
                    stringIfKnown(g, "family", c.osFamily());
                    g.writeEndObject();
                }
                g.writeEndObject();
            }
            g.writeObjectFieldStart("agent");
            g.writeStringField("id", stored.agentId());
            g.writeStringField("type", AGENT_TYPE);
            stringIfKnown(g, "version", c.agentVersion());
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    /** {@link #json} as a map (what a reader of the document sees). */
    static Map<String, Object> of(StoredEvent stored) {
        return new JsonObject(Buffer.buffer(json(stored))).getMap();
    }

    private static void stringIfKnown(JsonGenerator g, String field, String value) throws IOException {
        if (value != null) {
            g.writeStringField(field, value);
        }
    }

    private static void numberIfKnown(JsonGenerator g, String field, Long value) throws IOException {
        if (value != null) {
            g.writeNumberField(field, value);
        }
    }

    /** ECS's {@code agent} object: the token's agent id, the type {@code dozor}, and the version when known. */
    static Map<String, Object> agent(String agentId, String version) {
        Map<String, Object> agent = new LinkedHashMap<>();
        agent.put("id", agentId);
        agent.put("type", AGENT_TYPE);
        putIfKnown(agent, "version", version);
        return agent;
    }

    static void putIfKnown(Map<String, Object> into, String key, Object value) {
        if (value != null) {
            into.put(key, value);
        }
    }
}
