package io.dozor.server;

import static net.logstash.logback.argument.StructuredArguments.kv;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dozor.server.setup.IndexTemplate;
import io.dozor.testkit.FileModes;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies the server's logback.xml as shipped: JSON lines with the fields the Logstash pipeline, the logs
 * template and the Kibana data view expect; warnings and errors (only) in the error file; the optional
 * Logstash TCP appender; secrets masked whatever code logs them.
 */
class LoggingTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    static final String JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwYy0wMSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";

    @TempDir
    Path dir;

    @AfterEach
    void backToTheDefaultConfiguration() {
        Logging.configure(Path.of("logs"), Optional.empty());
    }

    static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            lines.add(JSON.readTree(line)); // throws on anything that is not one JSON object per line
        }
        return lines;
    }

    @Test
    void theLogFilesAndANewLogDirectoryAreTheServersUserOnly() throws IOException {
        Assumptions.assumeTrue(FileModes.posix(dir), "the file system has POSIX permissions");
        Path logs = dir.resolve("var/logs");
        Logging.configure(logs, Optional.empty());
        LoggerFactory.getLogger("io.dozor.server.test.Private").warn("a warning, in both files");

        assertThat(FileModes.mode(logs)).isEqualTo("rwx------");
        assertThat(FileModes.mode(logs.getParent())).isEqualTo("rwx------");
        assertThat(FileModes.mode(logs.resolve("dozor-server.json"))).isEqualTo("rw-------");
        assertThat(FileModes.mode(logs.resolve("dozor-server-errors.json"))).isEqualTo("rw-------");
        assertThat(Files.readString(logs.resolve("dozor-server-errors.json"))).contains("a warning, in both files");
    }

    @Test
    void everyLineIsJsonWithTheFieldsThePipelineExpects() throws IOException {
        Logging.configure(dir, Optional.empty());
        Logger log = LoggerFactory.getLogger("io.dozor.server.test.Lines");
        log.info("stored batch [{}, {}, {}]", kv("agent_id", "pc-01"), kv("request_id", "r-1"), kv("reason", "x"));
        log.info("plain line with \"quotes\", a\nnewline and кириллица");

        List<JsonNode> lines = lines(dir.resolve("dozor-server.json"));
        assertThat(lines).hasSize(2);
        JsonNode first = lines.get(0);
        // ECS: the encoder's fields named in logback.xml, the context renamed by EcsLogFields
        assertThat(first.fieldNames())
                .toIterable()
                .containsExactlyInAnyOrder(
                        "@timestamp",
                        "log.level",
                        "message",
                        "log.logger",
                        "process.thread.name",
                        "service.name",
                        "host.name",
                        "ecs.version",
                        "event.dataset",
                        "agent.id",
                        "http.request.id",
                        "dozor.reason");
        assertThat(first.get("message").asText()).isEqualTo("stored batch [agent_id=pc-01, request_id=r-1, reason=x]");
        assertThat(first.get("log.level").asText()).isEqualTo("INFO");
        assertThat(first.get("log.logger").asText()).isEqualTo("io.dozor.server.test.Lines");
        assertThat(first.get("service.name").asText()).isEqualTo("dozor-server");
        assertThat(first.get("ecs.version").asText()).isEqualTo(EcsFields.ECS.getString("ecs_version"));
        assertThat(first.get("event.dataset").asText()).isEqualTo("dozor.server");
        assertThat(first.get("agent.id").asText()).isEqualTo("pc-01");
        assertThat(first.get("http.request.id").asText()).isEqualTo("r-1");
        assertThat(first.get("@timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+.*");
        assertThat(lines.get(1).get("message").asText())
                .isEqualTo("plain line with \"quotes\", a\nnewline and кириллица");

        JsonObject properties = new JsonObject(IndexTemplate.LOGS.json("unused"))
                .getJsonObject("template")
                .getJsonObject("mappings")
                .getJsonObject("properties");
        Set<String> declared = EcsFields.leaves(properties).keySet();
        first.fieldNames()
                .forEachRemaining(field -> assertThat(declared.contains(field) || field.startsWith("dozor."))
                        .as("logs template field %s", field)
                        .isTrue());
    }

    @Test
    void contextKeysBecomeEcsFieldsOrDozorFields() {
        assertThat(EcsLogFields.fieldName("agent_id")).isEqualTo("agent.id");
        assertThat(EcsLogFields.fieldName("request_id")).isEqualTo("http.request.id");
        assertThat(EcsLogFields.fieldName("event_id")).isEqualTo("event.id");
        assertThat(EcsLogFields.fieldName("client_ip")).isEqualTo("client.ip");
        assertThat(EcsLogFields.fieldName("path")).isEqualTo("url.path");
        assertThat(EcsLogFields.fieldName("token_id")).isEqualTo("dozor.token_id");
        assertThat(EcsLogFields.fieldName("log.level")).isEqualTo("log.level");
        assertThat(EcsLogFields.fieldName("message")).isEqualTo("message");
    }

    @Test
    void theErrorFileHoldsOnlyWarningsAndErrorsWithTheirStackTraces() throws IOException {
        Logging.configure(dir, Optional.empty());
        Logger log = LoggerFactory.getLogger("io.dozor.server.test.Levels");
        log.debug("debug line");
        log.info("info line");
        log.warn("warn line");
        log.error("error line", new IllegalStateException("boom"));

        assertThat(lines(dir.resolve("dozor-server.json")))
                .extracting(l -> l.get("log.level").asText())
                .containsExactly("INFO", "WARN", "ERROR");
        List<JsonNode> errors = lines(dir.resolve("dozor-server-errors.json"));
        assertThat(errors).extracting(l -> l.get("message").asText()).containsExactly("warn line", "error line");
        assertThat(errors.get(1).get("error.stack_trace").asText()).contains("IllegalStateException: boom");
        assertThat(errors.get(1).get("error.type").asText()).isEqualTo("java.lang.IllegalStateException");
        assertThat(errors.get(1).get("error.message").asText()).isEqualTo("boom");
    }

    @Test
    void withLogstashConfiguredTheSameJsonLinesGoToItsTcpInput() throws IOException {
        try (ServerSocket logstash = new ServerSocket(0)) {
            logstash.setSoTimeout(20_000);
            Logging.configure(dir, Optional.of("127.0.0.1:" + logstash.getLocalPort()));
            LoggerFactory.getLogger("io.dozor.server.test.Tcp").warn("to logstash [{}]", kv("event_id", "e-1"));
            JsonNode line = JSON.readTree(firstLine(logstash));
            assertThat(line.get("message").asText()).isEqualTo("to logstash [event_id=e-1]");
            assertThat(line.get("event.id").asText()).isEqualTo("e-1");
            assertThat(line.get("service.name").asText()).isEqualTo("dozor-server");
        }
    }

    /** The first line on any connection: reloading the configuration closes the appender's earlier ones. */
    static String firstLine(ServerSocket server) throws IOException {
        while (true) {
            try (Socket connection = server.accept();
                    BufferedReader in = new BufferedReader(
                            new InputStreamReader(connection.getInputStream(), StandardCharsets.UTF_8))) {
                connection.setSoTimeout(20_000);
                String line = in.readLine();
                if (line != null) {
                    return line;
                }
            }
        }
    }

    @Test
    void tokensAndUrlPasswordsAreMaskedInFilesAndOnTheConsole() throws IOException {
        PrintStream stderr = System.err;
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(console, true, StandardCharsets.UTF_8));
            Logging.configure(dir, Optional.empty());
            Logger log = LoggerFactory.getLogger("io.dozor.server.test.Secrets");
            log.warn("telegram unreachable: POST /bot{}/sendMessage timed out", BOT_TOKEN);
            log.warn("refused [{}]", kv("authorization", "Bearer " + JWT));
            log.error(
                    "postgres down [url=postgresql://dozor:pg-Pa55word@db:5432/dozor]",
                    new IllegalStateException("cannot reach postgresql://dozor:pg-Pa55word@db:5432/dozor"));
        } finally {
            Logging.configure(Path.of("logs"), Optional.empty());
            System.setErr(stderr);
        }
        List<String> written = new ArrayList<>(List.of(
                console.toString(StandardCharsets.UTF_8),
                Files.readString(dir.resolve("dozor-server.json")),
                Files.readString(dir.resolve("dozor-server-errors.json"))));
        for (String text : written) {
            assertThat(text)
                    .contains("/bot****/sendMessage", "postgresql://dozor:****@db:5432/dozor")
                    .doesNotContain(BOT_TOKEN, JWT, "pg-Pa55word");
        }
    }
}
