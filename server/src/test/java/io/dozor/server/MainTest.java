package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verifies the CLI contract: usage and configuration errors exit 2 with one line naming the problem. */
class MainTest {
    record Result(int status, String out, String err) {}

    static Result run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(status, out.toString(), err.toString());
    }

    @Test
    void missingConfigFileExits2WithOneLine() {
        Result r = run(Map.of(), "run", "--config", "/nonexistent/server.yaml");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("dozor-server: --config: no such file /nonexistent/server.yaml\n");
    }

    @Test
    void missingSettingIsNamedWithItsVariable() {
        Result r = run(Map.of("DOZOR_HTTP_PLAIN", "true"), "run");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("dozor-server: auth.token_secret (DOZOR_AUTH_TOKEN_SECRET): missing\n");
    }

    @Test
    void tokenCreateWithoutAgentIdIsAUsageError() {
        Result r = run(Map.of(), "token", "create");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).contains("--agent-id");
    }

    @Test
    void unknownCommandIsAUsageError() {
        Result r = run(Map.of(), "frobnicate");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void tokenCreatePrintsOnlyTheTokenAndRevokeRefusesItAfterwards() {
        try (var db = io.dozor.testkit.PostgresDatabase.create()) {
            // no TLS settings and no DOZOR_HTTP_PLAIN: only `run` serves HTTP, the token commands need the database
            Map<String, String> env = Map.of(
                    "DOZOR_AUTH_TOKEN_SECRET",
                    TestServer.SECRET,
                    "DOZOR_POSTGRES_URL",
                    db.url(),
                    "DOZOR_ELASTICSEARCH_URLS",
                    "http://127.0.0.1:1",
                    "DOZOR_LOG_DIR",
                    System.getProperty("java.io.tmpdir") + "/dozor-main-test-logs");
            Result created = run(env, "token", "create", "--agent-id", "pc-07");
            assertThat(created.status()).as(created.err()).isEqualTo(0);
            assertThat(created.out()).matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\n");

            Result listed = run(env, "token", "list");
            assertThat(listed.out()).contains("pc-07");
            assertThat(run(env, "token", "revoke", "--agent-id", "pc-07").out()).isEqualTo("revoked 1 token(s)\n");
            assertThat(db.query("SELECT revoked_at IS NOT NULL AS revoked FROM agent_tokens")
                            .get(0))
                    .containsEntry("revoked", true);
        }
    }

    /**
     * An agent and an admin may share a name ("ops"); revoking one by name never touches the other, and
     * the list says which is which. "Working" is checked on a real server: the agent token on the
     * heartbeat route, the admin token on the admin API.
     */
    @Test
    void anAgentAndAnAdminOfTheSameNameAreRevokedSeparately(@TempDir Path dir) {
        try (var db = io.dozor.testkit.PostgresDatabase.create()) {
            Map<String, String> env = TestServer.env(
                    db.url(),
                    "http://127.0.0.1:1",
                    io.dozor.testkit.DevCertificates.generate(dir.resolve("tls")),
                    dir.resolve("logs"));
            String agent =
                    run(env, "token", "create", "--agent-id", "ops").out().strip();
            String admin = run(env, "token", "create", "--admin", "ops").out().strip();
            String listed = run(env, "token", "list").out();
            assertThat(listed.lines().filter(l -> l.matches("\\S+\\s+agent\\s+ops\\s+create\\s+\\S+\\s+\\S+\\s*")))
                    .hasSize(1);
            assertThat(listed.lines().filter(l -> l.matches("\\S+\\s+admin\\s+ops\\s+create\\s+\\S+\\s+\\S+\\s*")))
                    .hasSize(1);

            try (TestServer server = new TestServer(env, false)) {
                assertThat(heartbeat(server, agent)).isEqualTo(204);
                assertThat(adminAgents(server, admin)).isEqualTo(200);

                assertThat(run(env, "token", "revoke", "--agent-id", "ops").out())
                        .isEqualTo("revoked 1 token(s)\n");
                // the server had the token cached: PostgreSQL notifies it of the revocation within milliseconds
                io.dozor.testkit.Wait.until(
                        "the revoked agent token refused",
                        java.time.Duration.ofSeconds(1),
                        () -> heartbeat(server, agent) == 401);
                assertThat(adminAgents(server, admin))
                        .as("the admin named like the agent")
                        .isEqualTo(200);
                String after = run(env, "token", "list").out();
                assertThat(after.lines()
                                .filter(l -> l.matches("\\S+\\s+agent\\s+ops\\s+create\\s+\\S+\\s+\\S+\\s+\\S+\\s*")))
                        .hasSize(1);
                assertThat(after.lines().filter(l -> l.matches("\\S+\\s+admin\\s+ops\\s+create\\s+\\S+\\s+\\S+\\s*")))
                        .hasSize(1);

                String agent2 =
                        run(env, "token", "create", "--agent-id", "ops").out().strip();
                assertThat(run(env, "token", "revoke", "--admin", "ops").out()).isEqualTo("revoked 1 token(s)\n");
                io.dozor.testkit.Wait.until(
                        "the revoked admin token refused",
                        java.time.Duration.ofSeconds(1),
                        () -> adminAgents(server, admin) == 401);
                assertThat(heartbeat(server, agent2))
                        .as("the agent named like the admin")
                        .isEqualTo(204);
            }
            assertThat(run(env, "token", "revoke", "--admin", "ops", "--agent-id", "ops")
                            .status())
                    .isEqualTo(2);
        }
    }

    static int heartbeat(TestServer server, String token) {
        return server.post(
                        "/api/v1/heartbeat",
                        token,
                        "{\"version\":\"0.1.0\",\"hostname\":\"OPS\",\"spool_depth\":0,\"dropped_events\":0}")
                .statusCode();
    }

    static int adminAgents(TestServer server, String token) {
        try {
            return server.http
                    .send(
                            java.net.http.HttpRequest.newBuilder(server.uri("/api/v1/agents"))
                                    .header("Authorization", "Bearer " + token)
                                    .GET()
                                    .build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString())
                    .statusCode();
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
