package io.dozor.server.index;

import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
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

    static Map<String, Object> of(StoredEvent stored) {
        LaunchEvent e = stored.launch();
        LaunchEvent.Context c = e.context();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("@timestamp", e.timestamp().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        doc.put("ecs", Map.of("version", ECS_VERSION));
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("id", e.eventId().toString());
        event.put("kind", "event");
        event.put("category", List.of("process"));
        event.put("type", List.of("start"));
        event.put("action", "process-started");
        event.put("dataset", "dozor.launch");
        if (stored.receivedAt() != null) {
            event.put("ingested", utc(stored.receivedAt()).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        }
        doc.put("event", event);
        Map<String, Object> user = new LinkedHashMap<>();
        user.put("name", e.username());
        putIfKnown(user, "domain", c.userDomain());
        doc.put("user", user);
        Map<String, Object> process = new LinkedHashMap<>();
        process.put("name", e.processName());
        putIfKnown(process, "pid", e.pid());
        putIfKnown(process, "executable", e.executable());
        Map<String, Object> parent = new LinkedHashMap<>();
        putIfKnown(parent, "pid", c.parentPid());
        putIfKnown(parent, "name", c.parentName());
        putIfKnown(process, "parent", parent.isEmpty() ? null : parent);
        doc.put("process", process);
        Map<String, Object> host = new LinkedHashMap<>();
        if (e.hostname() != null) {
            // ECS: host.name lowercased (so it matches other sources' documents); the name as reported in hostname
            host.put("name", e.hostname().toLowerCase(Locale.ROOT));
            host.put("hostname", e.hostname());
        }
        Map<String, Object> os = new LinkedHashMap<>();
        putIfKnown(os, "type", c.osType());
        putIfKnown(os, "family", c.osFamily());
        putIfKnown(host, "os", os.isEmpty() ? null : os);
        putIfKnown(doc, "host", host.isEmpty() ? null : host);
        doc.put("agent", agent(stored.agentId(), c.agentVersion()));
        return doc;
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
