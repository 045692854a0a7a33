package io.dozor.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.UUID;

/**
 * One launch, as sent to the server (CONTRACT.md, "Wire format").
 *
 * @param eventId     random id made at detection; the server stores a resent id once
 * @param timestamp   when the process started (not when it was detected), to the millisecond
 * @param username    who started it, without a domain prefix
 * @param processName the name as the OS reports it ({@code chrome.exe} on Windows)
 * @param pid         process id
 * @param executable  full path of the executable; left out of the JSON when unknown
 * @param hostname    this computer's name
 */
@JsonPropertyOrder({"event_id", "timestamp", "username", "process_name", "pid", "executable", "hostname"})
public record LaunchEvent(
        @JsonProperty("event_id") UUID eventId,
        @JsonProperty("timestamp")
        @JsonSerialize(using = LaunchEvent.TimestampSerializer.class)
        @JsonDeserialize(using = LaunchEvent.TimestampDeserializer.class)
        OffsetDateTime timestamp,
        @JsonProperty("username") String username,
        @JsonProperty("process_name") String processName,
        @JsonProperty("pid") long pid,
        @JsonProperty("executable") @JsonInclude(JsonInclude.Include.NON_NULL) String executable,
        @JsonProperty("hostname") String hostname) {

    /** RFC 3339 with milliseconds and a numeric offset: {@code 2026-11-27T10:15:03.120+03:00}. */
    public static final DateTimeFormatter TIMESTAMP_FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSxxx");

    public LaunchEvent {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(processName, "processName");
        Objects.requireNonNull(hostname, "hostname");
    }

    /** The event for a detected launch: a new random id, the start time in {@code zone}. */
    public static LaunchEvent of(ProcessInfo process, ZoneId zone, String hostname) {
        OffsetDateTime start = OffsetDateTime.ofInstant(process.startTime(), zone).truncatedTo(ChronoUnit.MILLIS);
        return new LaunchEvent(UUID.randomUUID(), start, LaunchDetector.userName(process.user()),
                process.name(), process.pid(), process.executable(), hostname);
    }

    static final class TimestampSerializer extends StdScalarSerializer<OffsetDateTime> {
        TimestampSerializer() {
            super(OffsetDateTime.class);
        }

        @Override
        public void serialize(OffsetDateTime value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            gen.writeString(TIMESTAMP_FORMAT.format(value));
        }
    }

    static final class TimestampDeserializer extends StdScalarDeserializer<OffsetDateTime> {
        TimestampDeserializer() {
            super(OffsetDateTime.class);
        }

        @Override
        public OffsetDateTime deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            return OffsetDateTime.parse(p.getValueAsString());
        }
    }
}
