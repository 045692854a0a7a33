package io.dozor.server.index;

import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A heartbeat (a row of the heartbeats table) as an ECS document of {@code dozor-heartbeats-YYYY.MM}:
 * {@code @timestamp} (when the server received it), {@code ecs.version}, {@code event.kind: metric},
 * {@code event.dataset: dozor.heartbeat}, {@code agent.id/type/version}, {@code host.name} (lowercased) and
 * {@code host.hostname}, and the agent's counters under {@code dozor.agent.*}. {@code _id} is the row id.
 */
final class HeartbeatDocument {
    private HeartbeatDocument() {}

    /** A column of the heartbeats table and the document field it becomes. */
    record Field(String column, String path, Kind kind) {}

    enum Kind {
        TEXT,
        NUMBER
    }

    /**
     * The one place mapping what a heartbeat says to the document, beyond the agent id and the time: a new
     * heartbeat column is one more entry here (and in elasticsearch/heartbeats-template.json), and the claim
     * reads it too. {@code version} and {@code hostname} are handled apart (ECS wants host.name lowercased).
     */
    static final List<Field> FIELDS = List.of(
            new Field("version", "agent.version", Kind.TEXT),
            new Field("spool_depth", "dozor.agent.spool_depth", Kind.NUMBER),
            new Field("dropped_events", "dozor.agent.dropped_events", Kind.NUMBER),
            new Field("unpersisted_events", "dozor.agent.unpersisted_events", Kind.NUMBER),
            new Field("spool_error", "dozor.agent.spool_error", Kind.TEXT));

    /** The columns the claim selects besides id, agent_id, received_at and attempts. */
    static String columns() {
        StringBuilder out = new StringBuilder("hostname");
        FIELDS.forEach(f -> out.append(", ").append(f.column()));
        return out.toString();
    }

    static String index(OffsetDateTime receivedAt) {
        return io.dozor.server.setup.IndexTemplate.HEARTBEATS_PREFIX + "-"
                + EcsDocument.utc(receivedAt).format(DateTimeFormatter.ofPattern("yyyy.MM"));
    }

    static Map<String, Object> of(Row row) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put(
                "@timestamp",
                EcsDocument.utc(row.getOffsetDateTime("received_at")).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        doc.put("ecs", Map.of("version", EcsDocument.ECS_VERSION));
        doc.put("event", Map.of("kind", "metric", "dataset", "dozor.heartbeat"));
        doc.put("agent", EcsDocument.agent(row.getString("agent_id"), null));
        String hostname = row.getString("hostname");
        if (hostname != null) {
            Map<String, Object> host = new LinkedHashMap<>();
            host.put("name", hostname.toLowerCase(Locale.ROOT));
            host.put("hostname", hostname);
            doc.put("host", host);
        }
        for (Field f : FIELDS) {
            Object value = f.kind() == Kind.NUMBER ? row.getLong(f.column()) : row.getString(f.column());
            if (value != null) {
                put(doc, f.path(), value);
            }
        }
        return doc;
    }

    /** Puts {@code value} at the dotted {@code path}, making the objects on the way. */
    @SuppressWarnings("unchecked")
    static void put(Map<String, Object> doc, String path, Object value) {
        String[] parts = path.split("\\.");
        Map<String, Object> at = doc;
        for (int i = 0; i < parts.length - 1; i++) {
            Object next = at.get(parts[i]);
            if (!(next instanceof Map<?, ?> m) || !(m instanceof LinkedHashMap<?, ?>)) {
                Map<String, Object> made = new LinkedHashMap<>();
                if (next instanceof Map<?, ?> m) {
                    made.putAll((Map<String, Object>) m);
                }
                at.put(parts[i], made);
                next = made;
            }
            at = (Map<String, Object>) next;
        }
        at.put(parts[parts.length - 1], value);
    }
}
