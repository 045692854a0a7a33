package io.dozor.agent;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON line per log event, ECS 9.2.0 like the server's lines, as {@code logstash/pipeline/dozor.conf} and
 * {@code elasticsearch/logs-template.json} expect them: {@code @timestamp message log.level log.logger
 * process.thread.name [error.type error.message error.stack_trace] service.name host.name ecs.version
 * event.dataset} and the event's SLF4J key-value pairs as fields, {@code event_id} as {@code event.id} and any
 * other key as {@code dozor.<key>} ({@link #fieldName}). Every string written is masked
 * ({@link AgentLogging#SECRETS}).
 *
 * <p>Written with jackson-core, as {@link EventJson} writes the agent's events, rather than with the logstash
 * encoder: that one builds a jackson-databind {@code ObjectMapper} per encoder, and databind and the encoder's
 * providers (~500 classes) were 3 MB of the agent's memory budget for seven fields (BENCHMARKS.md).
 */
final class AgentJsonEncoder extends EncoderBase<ILoggingEvent> {

    private static final byte[] NO_BYTES = new byte[0];

    private final String service;
    private final String host;
    private final Pattern secrets;
    private final String mask;

    AgentJsonEncoder(String service, String host, Pattern secrets, String mask) {
        this.service = service;
        this.host = host;
        this.secrets = secrets;
        this.mask = mask;
    }

    @Override
    public byte[] headerBytes() {
        return NO_BYTES;
    }

    @Override
    public byte[] footerBytes() {
        return NO_BYTES;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        return EventJson.write(g -> {
            g.writeStartObject();
            g.writeStringField("@timestamp", event.getInstant().toString());
            g.writeStringField("message", masked(event.getFormattedMessage()));
            g.writeStringField("log.level", event.getLevel().toString());
            g.writeStringField("log.logger", event.getLoggerName());
            g.writeStringField("process.thread.name", event.getThreadName());
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                g.writeStringField("error.type", thrown.getClassName());
                if (thrown.getMessage() != null) {
                    g.writeStringField("error.message", masked(thrown.getMessage()));
                }
                g.writeStringField("error.stack_trace", masked(ThrowableProxyUtil.asString(thrown)));
            }
            g.writeStringField("service.name", service);
            g.writeStringField("host.name", host);
            g.writeStringField("ecs.version", ECS_VERSION);
            g.writeStringField("event.dataset", "dozor.agent");
            List<KeyValuePair> pairs = event.getKeyValuePairs();
            if (pairs != null) {
                for (KeyValuePair pair : pairs) {
                    g.writeStringField(fieldName(pair.key), masked(String.valueOf(pair.value)));
                }
            }
            g.writeEndObject();
            g.writeRaw('\n');
        });
    }

    /** The ECS version of the lines (elasticsearch/ecs/ holds its definitions of the fields used). */
    static final String ECS_VERSION = "9.2.0";

    /** A key-value pair's field: {@code event_id} is ECS's {@code event.id}, any other key {@code dozor.<key>}. */
    static String fieldName(String key) {
        return key.equals("event_id") ? "event.id" : "dozor." + key;
    }

    private String masked(String text) {
        return text == null ? null : secrets.matcher(text).replaceAll(mask);
    }
}
