package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
          "DOZOR_AUTH_TOKEN_SECRET", TestServer.SECRET,
          "DOZOR_POSTGRES_URL", db.url(),
          "DOZOR_ELASTICSEARCH_URLS", "http://127.0.0.1:1",
          "DOZOR_LOG_DIR", System.getProperty("java.io.tmpdir") + "/dozor-main-test-logs");
      Result created = run(env, "token", "create", "--agent-id", "pc-07");
      assertThat(created.status()).isEqualTo(0);
      assertThat(created.out()).matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\n");

      Result listed = run(env, "token", "list");
      assertThat(listed.out()).contains("pc-07");
      assertThat(run(env, "token", "revoke", "--agent-id", "pc-07").out()).isEqualTo("revoked 1 token(s)\n");
      assertThat(db.query("SELECT revoked_at IS NOT NULL AS revoked FROM agent_tokens").get(0))
          .containsEntry("revoked", true);
    }
  }
}
