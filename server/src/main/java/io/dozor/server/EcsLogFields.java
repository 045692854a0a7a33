package io.dozor.server;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import net.logstash.logback.mask.MaskingJsonGeneratorDecorator;

/**
 * Makes the context fields of the server's JSON log lines ECS fields (logback.xml's encoders use it; it masks
 * secrets as its parent does). The encoder's own fields are named in logback.xml (log.level, log.logger,
 * process.thread.name, error.*, service.name, host.name, ecs.version, event.dataset); the context a line
 * carries as key-value arguments (agent_id, request_id, ...) is renamed here, in one place: a known key to its
 * ECS field ({@link #ECS}), any other plain key to {@code dozor.<key>}, so every field of a line is either ECS or
 * a documented dozor.* field (elasticsearch/ecs/dozor-fields.json).
 */
public final class EcsLogFields extends MaskingJsonGeneratorDecorator {
    /** Context keys that name an ECS field. */
    static final Map<String, String> ECS = Map.of(
            "agent_id", "agent.id",
            "event_id", "event.id",
            "request_id", "http.request.id",
            "client_ip", "client.ip",
            "path", "url.path");
    /** Top-level names that are ECS fields as they are. */
    static final Set<String> KEPT = Set.of("@timestamp", "message", "tags");

    /** The name a top-level field of a line gets. */
    public static String fieldName(String name) {
        String ecs = ECS.get(name);
        if (ecs != null) {
            return ecs;
        }
        return KEPT.contains(name) || name.contains(".") ? name : "dozor." + name;
    }

    @Override
    public JsonGenerator decorate(JsonGenerator generator) {
        return new JsonGeneratorDelegate(super.decorate(generator), false) {
            @Override
            public void writeFieldName(String name) throws IOException {
                super.writeFieldName(topLevel() ? fieldName(name) : name);
            }

            @Override
            public void writeFieldName(SerializableString name) throws IOException {
                writeFieldName(name.getValue());
            }

            /** Only the line's own fields are renamed, not the keys inside a field's value. */
            private boolean topLevel() {
                var context = getOutputContext();
                return context.inObject()
                        && context.getParent() != null
                        && context.getParent().inRoot();
            }
        };
    }
}
