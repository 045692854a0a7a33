package io.dozor.agent;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON line per log event, in the shape of the server's {@code LogstashEncoder} lines as
 * {@code logstash/pipeline/dozor.conf} and {@code elasticsearch/logs-template.json} expect them:
 * {@code @timestamp message logger thread level [stack_trace] service host} and the event's SLF4J key-value
 * pairs ({@code event_id}) as fields. Every string written is masked ({@link AgentLogging#SECRETS}).
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
            g.writeStringField("logger", event.getLoggerName());
            g.writeStringField("thread", event.getThreadName());
            g.writeStringField("level", event.getLevel().toString());
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                g.writeStringField("stack_trace", masked(ThrowableProxyUtil.asString(thrown)));
            }
            g.writeStringField("service", service);
            g.writeStringField("host", host);
            List<KeyValuePair> pairs = event.getKeyValuePairs();
            if (pairs != null) {
                for (KeyValuePair pair : pairs) {
                    g.writeStringField(pair.key, masked(String.valueOf(pair.value)));
                }
            }
            g.writeEndObject();
            g.writeRaw('\n');
        });
    }

    private String masked(String text) {
        return text == null ? null : secrets.matcher(text).replaceAll(mask);
    }
}
