package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.FakeTelegram;
import io.dozor.testkit.PostgresDatabase;
import io.dozor.testkit.Wait;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verifies that a real server, with a bot token, a PostgreSQL password and agents using good, revoked and
 * forged tokens, writes none of those secrets (nor the token signing secret) to any of its log files,
 * while the lines still say what happened with their request ids.
 */
class LogSecretsTest {
    static final String BOT_TOKEN = "987654321:AAF-secret_bot_token_0123456789abcdefXYZ";
    static final String PG_PASSWORD = "pg-Pa55word-never-logged";

    @TempDir
    Path dir;

    @Test
    void noSecretReachesAnyLogFile() throws IOException {
        Path logs = dir.resolve("logs");
        List<String> secrets = new ArrayList<>(List.of(BOT_TOKEN, PG_PASSWORD, TestServer.SECRET));
        try (PostgresDatabase db = PostgresDatabase.create();
                FakeTelegram telegram = FakeTelegram.start(BOT_TOKEN)) {
            String pgUrl = db.url().replaceFirst("://([^:@/]+)@", "://$1:" + PG_PASSWORD + "@");
            Map<String, String> env = TestServer.env(
                    pgUrl, Elasticsearch.shared().url(), DevCertificates.generate(dir.resolve("tls")), logs);
            env.put("DOZOR_TELEGRAM_API_URL", telegram.apiUrl());
            env.put("DOZOR_TELEGRAM_BOT_TOKEN", BOT_TOKEN);
            env.put("DOZOR_TELEGRAM_CHAT_IDS", "42");
            Logging.configure(logs, Optional.empty());
            try (TestServer server = new TestServer(env)) {
                String good = server.token("pc-secret");
                String revoked = server.token("pc-revoked");
                TokenAdmin.revoke(server.config, null, "pc-revoked");
                String forged =
                        TestServer.foreignToken(server.vertx, "another-secret-0123456789abcdef0123", "HS256", "pc-x");
                secrets.addAll(List.of(good, revoked, forged));
                // the token id of the refused token is as good as half of it: only a hash prefix may be logged
                secrets.add(new io.vertx.core.json.JsonObject(new String(
                                java.util.Base64.getUrlDecoder().decode(revoked.split("\\.")[1]),
                                java.nio.charset.StandardCharsets.UTF_8))
                        .getString("jti"));

                telegram.fail(1, 500, "Internal Server Error");
                String batch = PipelineTest.batch(
                        PipelineTest.event(UUID.randomUUID(), "2026-11-27T10:15:03+03:00", "ivanov", "chrome.exe"));
                assertThat(server.post("/api/v1/events", good, batch).statusCode())
                        .isEqualTo(200);
                HttpResponse<String> refused = server.post("/api/v1/events", revoked, batch);
                assertThat(refused.statusCode()).isEqualTo(401);
                assertThat(server.post("/api/v1/events", forged, batch).statusCode())
                        .isEqualTo(401);
                assertThat(server.post("/api/v1/events", good, "{\"events\": [{}]}")
                                .statusCode())
                        .isEqualTo(400);
                Wait.until(
                        "telegram retried after its 500",
                        Duration.ofSeconds(30),
                        () -> telegram.messages().size() == 1);

                String requestId = refused.headers().firstValue("X-Request-Id").orElseThrow();
                Wait.until(
                        "the refused token is logged with its request id",
                        Duration.ofSeconds(10),
                        () -> linesOf(logs).stream()
                                .anyMatch(l -> requestId.equals(
                                                l.path("http.request.id").asText())
                                        && "pc-revoked"
                                                .equals(l.path("agent.id").asText())));
            } finally {
                Logging.configure(Path.of("logs"), Optional.empty());
            }
        }

        List<Path> files;
        try (Stream<Path> list = Files.list(logs)) {
            files = list.toList();
        }
        assertThat(files)
                .extracting(f -> f.getFileName().toString())
                .contains("dozor-server.json", "dozor-server-errors.json");
        String all = String.join("\n", files.stream().map(LogSecretsTest::read).toList());
        assertThat(all).contains("refused revoked, expired or unknown token", "delivery will be retried");
        for (String secret : secrets) {
            assertThat(all).as("log files").doesNotContain(secret);
        }
    }

    static List<JsonNode> linesOf(Path logs) {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : read(logs.resolve("dozor-server.json")).split("\n")) {
            try {
                lines.add(new ObjectMapper().readTree(line));
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + line, e);
            }
        }
        return lines;
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
