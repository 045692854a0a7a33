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
    final AgentJsonEncoder encoder =
            new AgentJsonEncoder("dozor-agent", "PC-01", AgentLogging.SECRET_PATTERN, AgentLogging.MASK);

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
        server.getFieldNames().setLevel("log.level");
        server.getFieldNames().setLogger("log.logger");
        server.getFieldNames().setThread("process.thread.name");
        server.getFieldNames().setStackTrace("error.stack_trace");
        server.getFieldNames().setVersion("[ignore]");
        server.getFieldNames().setLevelValue("[ignore]");
        var errorType = new net.logstash.logback.composite.loggingevent.ThrowableClassNameJsonProvider();
        errorType.setFieldName("error.type");
        errorType.setUseSimpleClassName(false);
        server.addProvider(errorType);
        var errorMessage = new net.logstash.logback.composite.loggingevent.ThrowableMessageJsonProvider();
        errorMessage.setFieldName("error.message");
        server.addProvider(errorMessage);
        server.setCustomFields("{\"service.name\":\"dozor-agent\",\"host.name\":\"PC-01\",\"ecs.version\":\"9.2.0\","
                + "\"event.dataset\":\"dozor.agent\"}");
        server.setIncludeContext(false);
        server.start();
        LoggingEvent event = event("server unreachable [pending=3]", new IllegalStateException("boom"));

        JsonNode ours = line(encoder.encode(event));
        JsonNode theirs = JSON.readTree(server.encode(event));

        // the server renames its context keys in EcsLogFields (event_id to event.id), the agent in its encoder
        assertThat(ours.properties())
                .extracting(java.util.Map.Entry::getKey)
                .containsExactlyInAnyOrderElementsOf(() -> java.util.stream.StreamSupport.stream(
                                java.util.Spliterators.spliteratorUnknownSize(theirs.fieldNames(), 0), false)
                        .map(f -> f.equals("event_id") ? "event.id" : f)
                        .iterator());
        for (String field : new String[] {
            "message",
            "log.logger",
            "process.thread.name",
            "log.level",
            "service.name",
            "host.name",
            "ecs.version",
            "event.dataset",
            "error.type",
            "error.message"
        }) {
            assertThat(ours.get(field)).as(field).isEqualTo(theirs.get(field));
        }
        assertThat(ours.get("event.id")).isEqualTo(theirs.get("event_id"));
        assertThat(java.time.Instant.parse(ours.get("@timestamp").asText()))
                .isEqualTo(
                        java.time.OffsetDateTime.parse(theirs.get("@timestamp").asText())
                                .toInstant());
        assertThat(ours.get("error.stack_trace").asText())
                .startsWith("java.lang.IllegalStateException: boom")
                .contains("at io.dozor.agent.AgentJsonEncoderTest");
        assertThat(ours.get("error.type").asText()).isEqualTo("java.lang.IllegalStateException");
    }

    @Test
    void masksSecretsInTheMessageTheStackTraceAndTheFields() throws Exception {
        LoggingEvent event = event(
                "token " + TOKEN + " to https://user:s3cret@host/", new IllegalStateException("rejected " + TOKEN));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("url", "https://user:s3cret@host/"));

        JsonNode line = line(encoder.encode(event));

        assertThat(line.get("message").asText()).isEqualTo("token **** to https://user:****@host/");
        assertThat(line.get("error.stack_trace").asText()).startsWith("java.lang.IllegalStateException: rejected ****");
        assertThat(line.get("error.message").asText()).isEqualTo("rejected ****");
        assertThat(line.get("dozor.url").asText()).isEqualTo("https://user:****@host/");
        assertThat(line.toString()).doesNotContain("s3cret");
    }

    @Test
    void aLineWithoutExceptionOrFieldsHasNoStackTraceAndStaysOneLine() throws Exception {
        LoggingEvent event =
                new LoggingEvent(Logger.class.getName(), logger, Level.INFO, "two\nlines \"quoted\"", null, null);

        JsonNode line = line(encoder.encode(event));

        assertThat(line.has("error.stack_trace")).isFalse();
        assertThat(line.has("error.type")).isFalse();
        assertThat(line.get("message").asText()).isEqualTo("two\nlines \"quoted\"");
        assertThat(line.get("log.level").asText()).isEqualTo("INFO");
    }
}
