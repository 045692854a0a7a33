package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dozor.testkit.FileModes;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verifies the agent's own logging set-up ({@link AgentLogging}) on a real agent process that cannot reach its server: JSON lines
 * with the pipeline's fields, only warnings and errors in the error file, and its token in no log.
 */
class AgentLogsTest {
    static final String TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwYy1sb2dzIn0.agent-token-signature_0123456789";
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path REPO = Path.of("..");

    @TempDir
    Path dir;

    @Test
    void anUnreachableServerIsLoggedAsJsonWithoutTheToken() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Path logs = dir.resolve("logs");
        Path ini = dir.resolve("agent.ini");
        Files.writeString(ini, """
                [server]
                url = http://127.0.0.1:%d
                token = %s
                allow_insecure_http = true
                [monitor]
                processes = java
                poll_interval_ms = 200
                report_existing = true
                [log]
                dir = logs
                """.formatted(closedPort, TOKEN));
        Process agent = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "run",
                        "--config",
                        ini.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("console.txt").toFile())
                .start();
        try {
            Path errors = logs.resolve(AgentLogging.ERRORS_FILE);
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            while (!(Files.exists(errors) && Files.readString(errors).contains("server unreachable"))) {
                assertThat(agent.isAlive())
                        .as("agent running; console: %s", console())
                        .isTrue();
                assertThat(Instant.now())
                        .as("agent logged the unreachable server")
                        .isBefore(deadline);
                Thread.sleep(200);
            }
        } finally {
            agent.destroy();
            agent.waitFor();
        }

        List<JsonNode> all = lines(logs.resolve(AgentLogging.JSON_FILE));
        assertThat(all).extracting(l -> l.get("message").asText()).anyMatch(m -> m.startsWith("launch detected"));
        JsonNode launch = all.stream()
                .filter(l -> l.get("message").asText().startsWith("launch detected"))
                .findFirst()
                .orElseThrow();
        assertThat(launch.fieldNames())
                .toIterable()
                .contains(
                        "@timestamp",
                        "log.level",
                        "message",
                        "log.logger",
                        "process.thread.name",
                        "service.name",
                        "host.name",
                        "event.id",
                        "ecs.version",
                        "event.dataset");
        assertThat(launch.get("service.name").asText()).isEqualTo("dozor-agent");
        // what Logstash reads (logstash/) and Elasticsearch maps (elasticsearch/): the file, and every field
        assertThat(Files.readString(REPO.resolve("logstash/pipeline/dozor.conf")))
                .contains("/" + AgentLogging.JSON_FILE + "\"");
        JsonNode mapped = JSON.readTree(
                        REPO.resolve("elasticsearch/logs-template.json").toFile())
                .at("/template/mappings/properties");
        assertThat(all)
                .allSatisfy(line -> assertThat(line.fieldNames())
                        .toIterable()
                        .allSatisfy(field -> assertThat(mapped(mapped, field))
                                .as("%s mapped", field)
                                .isTrue()));
        assertThat(lines(logs.resolve(AgentLogging.ERRORS_FILE)))
                .isNotEmpty()
                .allSatisfy(l -> assertThat(l.get("log.level").asText()).isIn("WARN", "ERROR"));

        List<Path> files;
        try (Stream<Path> list = Files.list(logs)) {
            files = new ArrayList<>(list.toList());
        }
        files.add(dir.resolve("console.txt"));
        for (Path file : files) {
            assertThat(Files.readString(file)).as(file.toString()).doesNotContain(TOKEN);
        }
        // the plain http:// url was allowed explicitly, and is warned about
        assertThat(lines(logs.resolve(AgentLogging.ERRORS_FILE)))
                .extracting(l -> l.get("message").asText())
                .anyMatch(m -> m.startsWith("server url is plain http"));
        if (FileModes.posix(dir)) {
            // what the agent created is its user's only: the log and spool directories, the logs, the spool files
            Path spool = dir.resolve("spool");
            assertThat(FileModes.mode(logs)).isEqualTo("rwx------");
            assertThat(FileModes.mode(spool)).isEqualTo("rwx------");
            assertThat(logs.resolve(AgentLogging.JSON_FILE)).satisfies(PrivateAgentFilesTest::isPrivateFile);
            assertThat(logs.resolve(AgentLogging.ERRORS_FILE)).satisfies(PrivateAgentFilesTest::isPrivateFile);
            assertThat(spool.resolve(SqliteSpool.FILE_NAME)).isRegularFile();
            try (Stream<Path> list = Files.list(spool)) {
                assertThat(list.toList()).allSatisfy(PrivateAgentFilesTest::isPrivateFile);
            }
        }
    }

    /** Whether the template maps the dotted {@code field}: declared, or under an object mapped dynamically (dozor). */
    static boolean mapped(JsonNode properties, String field) {
        JsonNode at = properties;
        for (String part : field.split("\\.")) {
            JsonNode next = at.get(part);
            if (next == null) {
                return false;
            }
            if (next.path("dynamic").asBoolean(false)) {
                return true;
            }
            at = next.has("properties") ? next.get("properties") : next;
        }
        return at.has("type");
    }

    String console() throws IOException {
        Path file = dir.resolve("console.txt");
        return Files.exists(file) ? Files.readString(file) : "";
    }

    static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }
}
