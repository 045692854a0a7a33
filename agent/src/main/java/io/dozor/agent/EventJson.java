package io.dozor.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.List;

/** The JSON of events and batches on the wire. */
public final class EventJson {

    private static final ObjectMapper MAPPER = JsonMapper.builder().build();

    private EventJson() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** {@code {"events":[...]}} */
    public static byte[] batch(List<LaunchEvent> events) {
        try {
            return MAPPER.writeValueAsBytes(new Batch(events));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise events", e);
        }
    }

    /** One event's JSON (as kept in the spool). */
    public static byte[] event(LaunchEvent event) {
        try {
            return MAPPER.writeValueAsBytes(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise an event", e);
        }
    }

    public record Batch(List<LaunchEvent> events) {
    }
}
