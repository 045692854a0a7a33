package io.dozor.agent;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.UUID;

/**
 * The JSON of events, batches and heartbeats on the wire (docs/http-api.md, "wire format"), written and read with
 * jackson-core's streaming API. Not with an {@code ObjectMapper}: binding records loads ~200 classes of
 * jackson-databind into every agent at its first event, for seven fields (BENCHMARKS.md).
 */
public final class EventJson {

    private static final JsonFactory FACTORY = new JsonFactory();

    private EventJson() {}

    /** {@code {"events":[...]}} */
    public static byte[] batch(List<LaunchEvent> events) {
        return write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("events");
            for (LaunchEvent event : events) {
                write(g, event);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** One event's JSON (as kept in the spool). */
    public static byte[] event(LaunchEvent event) {
        return write(g -> write(g, event));
    }

    /** A heartbeat's body. */
    static byte[] heartbeat(Heartbeat.Report report) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("version", report.version());
            g.writeStringField("hostname", report.hostname());
            g.writeNumberField("spool_depth", report.spoolDepth());
            g.writeNumberField("dropped_events", report.droppedEvents());
            g.writeNumberField("unpersisted_events", report.unpersistedEvents());
            g.writeStringField("spool_error", report.spoolError()); // null while the spool works
            g.writeEndObject();
        });
    }

    /** A flat JSON object of strings: enrolment's and renewal's bodies. */
    static byte[] strings(java.util.Map<String, String> fields) {
        return write(g -> {
            g.writeStartObject();
            for (var e : fields.entrySet()) {
                g.writeStringField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
        });
    }

    /**
     * The top-level string and integer fields of a JSON object (as text), the rest skipped: the server's
     * answers to enrolment and renewal.
     */
    static java.util.Map<String, String> fields(String json) throws IOException {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        try (JsonParser p = FACTORY.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (value == JsonToken.VALUE_STRING || value == JsonToken.VALUE_NUMBER_INT) {
                    out.put(field, p.getText());
                } else {
                    p.skipChildren();
                }
            }
        }
        return out;
    }

    private static void write(JsonGenerator g, LaunchEvent event) throws IOException {
        g.writeStartObject();
        g.writeStringField("event_id", event.eventId().toString());
        g.writeStringField("timestamp", LaunchEvent.TIMESTAMP_FORMAT.format(event.timestamp()));
        g.writeStringField("username", visible(event.username()));
        g.writeStringField("process_name", visible(event.processName()));
        g.writeNumberField("pid", event.pid());
        if (event.executable() != null) {
            g.writeStringField("executable", visible(event.executable()));
        }
        g.writeStringField("hostname", visible(event.hostname()));
        LaunchEvent.Context c = event.context();
        if (c.parentPid() != null) {
            g.writeNumberField("parent_pid", c.parentPid());
        }
        writeIfKnown(g, "parent_name", c.parentName());
        writeIfKnown(g, "user_domain", c.userDomain());
        writeIfKnown(g, "os_type", c.osType());
        writeIfKnown(g, "os_family", c.osFamily());
        writeIfKnown(g, "agent_version", c.agentVersion());
        g.writeEndObject();
    }

    /** An optional field: left out when unknown (or blank, which the server refuses). */
    private static void writeIfKnown(JsonGenerator g, String field, String value) throws IOException {
        if (value != null && !value.isBlank()) {
            g.writeStringField(field, visible(value));
        }
    }

    /**
     * {@code s} with each character the server refuses in a name or path (a control character, a bidirectional
     * override or isolate, a lone surrogate) replaced by U+FFFD, so that a program named to hide itself (e.g.
     * {@code "invoice\u202Efdp.exe"}) is still reported, visibly marked, instead of making the server refuse the
     * whole batch. The length is kept; a string without such characters is returned as it is.
     */
    static String visible(String s) {
        if (s == null) {
            return null;
        }
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean pair =
                    Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            boolean bad = c < 0x20
                    || (c >= 0x7F && c <= 0x9F)
                    || (c >= 0x202A && c <= 0x202E)
                    || (c >= 0x2066 && c <= 0x2069)
                    || (Character.isSurrogate(c) && !pair);
            if (bad && out == null) {
                out = new StringBuilder(s.length()).append(s, 0, i);
            }
            if (out != null) {
                out.append(bad ? '\uFFFD' : c);
                if (pair) {
                    out.append(s.charAt(i + 1));
                }
            }
            if (pair) {
                i++;
            }
        }
        return out == null ? s : out.toString();
    }

    /**
     * Reads one event's JSON as {@link #event} writes it.
     *
     * @throws IllegalArgumentException naming what is wrong when it is not such an event
     */
    public static LaunchEvent read(byte[] json) {
        try (JsonParser p = FACTORY.createParser(json)) {
            expect(p.nextToken(), JsonToken.START_OBJECT, "an object");
            UUID id = null;
            OffsetDateTime timestamp = null;
            String username = null;
            String processName = null;
            String executable = null;
            String hostname = null;
            Long pid = null;
            Long parentPid = null;
            String parentName = null;
            String userDomain = null;
            String osType = null;
            String osFamily = null;
            String agentVersion = null;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                expect(t, JsonToken.FIELD_NAME, "a field name");
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "event_id" -> id = UUID.fromString(text(p, value, field));
                    case "timestamp" -> timestamp = OffsetDateTime.parse(text(p, value, field));
                    case "username" -> username = text(p, value, field);
                    case "process_name" -> processName = text(p, value, field);
                    case "executable" -> executable = text(p, value, field);
                    case "hostname" -> hostname = text(p, value, field);
                    case "pid" -> {
                        expect(value, JsonToken.VALUE_NUMBER_INT, "an integer pid");
                        pid = p.getLongValue();
                    }
                    case "parent_pid" -> {
                        expect(value, JsonToken.VALUE_NUMBER_INT, "an integer parent_pid");
                        parentPid = p.getLongValue();
                    }
                    case "parent_name" -> parentName = text(p, value, field);
                    case "user_domain" -> userDomain = text(p, value, field);
                    case "os_type" -> osType = text(p, value, field);
                    case "os_family" -> osFamily = text(p, value, field);
                    case "agent_version" -> agentVersion = text(p, value, field);
                    default -> p.skipChildren(); // a field of a later version
                }
            }
            if (id == null
                    || timestamp == null
                    || username == null
                    || processName == null
                    || pid == null
                    || hostname == null) {
                throw new IllegalArgumentException(
                        "an event needs event_id, timestamp, username, process_name, pid and hostname");
            }
            return new LaunchEvent(
                    id,
                    timestamp,
                    username,
                    processName,
                    pid,
                    executable,
                    hostname,
                    new LaunchEvent.Context(parentPid, parentName, userDomain, osType, osFamily, agentVersion));
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "not JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("bad timestamp: " + e.getMessage(), e);
        }
    }

    private static String text(JsonParser p, JsonToken value, String field) throws IOException {
        expect(value, JsonToken.VALUE_STRING, "a string for " + field);
        return p.getText();
    }

    private static void expect(JsonToken actual, JsonToken wanted, String what) {
        if (actual != wanted) {
            throw new IllegalArgumentException("expected " + what + ", got " + actual);
        }
    }

    /** What {@link #write} writes. */
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** The bytes {@code body} writes with jackson-core's generator (also the agent's JSON log lines). */
    static byte[] write(Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write JSON to memory", e);
        }
        return out.toByteArray();
    }
}
