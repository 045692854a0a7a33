package io.dozor.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/** {@link AgentLogging} on its own logger context (the process's own is set up by logback-test.xml). */
class AgentLoggingTest {

    @TempDir
    Path dir;

    final String configFile = System.clearProperty("logback.configurationFile");
    final LoggerContext context = started(new LoggerContext());

    private static LoggerContext started(LoggerContext context) {
        context.setMDCAdapter(new LogbackMDCAdapter()); // as logback's SLF4J provider does for its own
        context.start();
        return context;
    }

    @AfterEach
    void restore() {
        context.stop();
        System.clearProperty(AgentLogging.DIR_PROPERTY);
        System.clearProperty(AgentLogging.LOGSTASH_PROPERTY);
        if (configFile != null) {
            System.setProperty("logback.configurationFile", configFile);
        }
    }

    @Test
    void setsUpTheConsoleAndBothJsonFilesInTheLogDirectory() throws Exception {
        System.setProperty(AgentLogging.DIR_PROPERTY, dir.toString());
        AgentLogging logging = new AgentLogging();
        logging.setContext(context);

        assertThat(logging.configure(context)).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        List<String> appenders = new ArrayList<>();
        context.getLogger(Logger.ROOT_LOGGER_NAME)
                .iteratorForAppenders()
                .forEachRemaining(a -> appenders.add(a.getName() + (a.isStarted() ? "" : " (not started)")));
        assertThat(appenders).containsExactly("CONSOLE", "dozor-agent", "dozor-agent-errors");

        context.getLogger("test").warn("a warning with a token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
        context.getLogger("test").info("an info line");
        String all = Files.readString(dir.resolve(AgentLogging.JSON_FILE));
        String errors = Files.readString(dir.resolve(AgentLogging.ERRORS_FILE));
        assertThat(all.lines()).hasSize(2);
        assertThat(errors.lines()).hasSize(1);
        assertThat(errors).contains("a warning with a token ****\"").doesNotContain("eyJ");
    }

    @Test
    void withLogstashConfiguredTheSameJsonLinesGoToItsTcpInput() throws Exception {
        try (ServerSocket logstash = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            logstash.setSoTimeout(20_000);
            System.setProperty(AgentLogging.DIR_PROPERTY, dir.toString());
            System.setProperty(AgentLogging.LOGSTASH_PROPERTY, "127.0.0.1:" + logstash.getLocalPort());
            AgentLogging logging = new AgentLogging();
            logging.setContext(context);
            logging.configure(context);

            context.getLogger("test")
                    .atWarn()
                    .addKeyValue("event_id", "e-1")
                    .log("refused token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
            try (Socket s = logstash.accept();
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), UTF_8))) {
                s.setSoTimeout(20_000);
                JsonNode line = new ObjectMapper().readTree(in.readLine());

                assertThat(line.get("message").asText()).isEqualTo("refused token ****");
                assertThat(line.get("event.id").asText()).isEqualTo("e-1");
                assertThat(line.get("service.name").asText()).isEqualTo("dozor-agent");
                assertThat(line.get("log.level").asText()).isEqualTo("WARN");
            }
        }
    }

    @Test
    void anAdministratorsOwnConfigurationFileTakesOver() {
        System.setProperty(
                "logback.configurationFile", dir.resolve("logback.xml").toString());
        AgentLogging logging = new AgentLogging();
        logging.setContext(context);

        assertThat(logging.configure(context)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME)
                        .iteratorForAppenders()
                        .hasNext())
                .isFalse();
        System.clearProperty("logback.configurationFile");
    }
}
