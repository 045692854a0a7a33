package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.Test;

/** The agent's JSON lines against the server's (its {@code logback.xml}'s {@code LogstashEncoder} settings). */
class AgentJsonEncoderTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

    final LoggerContext context = context();

    static LoggerContext context() {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        return context;
    }
    final Logger logger = context.getLogger("io.dozor.agent.Agent");
    final AgentJsonEncoder encoder = new AgentJsonEncoder("dozor-agent", "PC-01",
            AgentLogging.SECRET_PATTERN, AgentLogging.MASK);

    LoggingEvent event(String message, Throwable thrown) {
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.WARN, message, thrown, null);
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("event_id", "6f1c2a4e-8b1d-4c3e-9f00-123456789abc"));
        return event;
    }

    JsonNode line(byte[] bytes) throws Exception {
        String text = new String(bytes, StandardCharsets.UTF_8);
        assertThat(text).endsWith("\n").doesNotContain(TOKEN);
        assertThat(text.lines()).hasSize(1);
        return JSON.readTree(text);
    }

    @Test
    void hasTheFieldsAndValuesOfTheServersLogstashLines() throws Exception {
        LogstashEncoder server = new LogstashEncoder(); // as server/src/main/resources/logback.xml sets it up
        server.setContext(context);
        server.getFieldNames().setLogger("logger");
        server.getFieldNames().setThread("thread");
        server.getFieldNames().setVersion("[ignore]");
        server.getFieldNames().setLevelValue("[ignore]");
        server.setCustomFields("{\"service\":\"dozor-agent\",\"host\":\"PC-01\"}");
        server.setIncludeContext(false);
        server.start();
        LoggingEvent event = event("server unreachable [pending=3]", new IllegalStateException("boom"));

        JsonNode ours = line(encoder.encode(event));
        JsonNode theirs = JSON.readTree(server.encode(event));

        assertThat(ours.properties()).extracting(java.util.Map.Entry::getKey)
                .containsExactlyInAnyOrderElementsOf(() -> theirs.fieldNames());
        for (String field : new String[] {"message", "logger", "thread", "level", "service", "host", "event_id"}) {
            assertThat(ours.get(field)).as(field).isEqualTo(theirs.get(field));
        }
        assertThat(java.time.Instant.parse(ours.get("@timestamp").asText()))
                .isEqualTo(java.time.OffsetDateTime.parse(theirs.get("@timestamp").asText()).toInstant());
        assertThat(ours.get("stack_trace").asText()).startsWith("java.lang.IllegalStateException: boom")
                .contains("at io.dozor.agent.AgentJsonEncoderTest");
    }

    @Test
    void masksSecretsInTheMessageTheStackTraceAndTheFields() throws Exception {
        LoggingEvent event = event("token " + TOKEN + " to https://user:s3cret@host/",
                new IllegalStateException("rejected " + TOKEN));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("url", "https://user:s3cret@host/"));

        JsonNode line = line(encoder.encode(event));

        assertThat(line.get("message").asText()).isEqualTo("token **** to https://user:****@host/");
        assertThat(line.get("stack_trace").asText()).startsWith("java.lang.IllegalStateException: rejected ****");
        assertThat(line.get("url").asText()).isEqualTo("https://user:****@host/");
        assertThat(line.toString()).doesNotContain("s3cret");
    }

    @Test
    void aLineWithoutExceptionOrFieldsHasNoStackTraceAndStaysOneLine() throws Exception {
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.INFO, "two\nlines \"quoted\"",
                null, null);

        JsonNode line = line(encoder.encode(event));

        assertThat(line.has("stack_trace")).isFalse();
        assertThat(line.get("message").asText()).isEqualTo("two\nlines \"quoted\"");
        assertThat(line.get("level").asText()).isEqualTo("INFO");
    }
}
