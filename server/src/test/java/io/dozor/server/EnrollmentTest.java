package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.auth.Secrets;
import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Enrollment tokens, agent sessions, renewal, revocation and key rotation against a real server and the real
 * PostgreSQL (Elasticsearch is not needed: nothing here is indexed).
 */
class EnrollmentTest {
    @TempDir
    static Path dir;

    static PostgresDatabase db;
    static Map<String, String> env;

    @BeforeAll
    static void database() {
        db = PostgresDatabase.create();
        env = TestServer.env(
                db.url(), "http://127.0.0.1:1", DevCertificates.generate(dir.resolve("tls")), dir.resolve("logs"));
        env.put("DOZOR_AUTH_ACCESS_TOKEN_TTL", "3s");
    }

    @AfterAll
    static void drop() {
        db.close();
    }

    static MainTest.Result cli(Map<String, String> environment, String... args) {
        return MainTest.run(environment, args);
    }

    static String enrollment(String name, int uses) {
        MainTest.Result r =
                cli(env, "enrollment", "create", "--name", name, "--uses", Integer.toString(uses), "--expires", "1h");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\n");
        return r.out().strip();
    }

    static HttpResponse<String> enroll(TestServer server, String token, String hostname) {
        return server.post(
                "/api/v1/enroll",
                token,
                new JsonObject()
                        .put("hostname", hostname)
                        .put("os", "Windows 11")
                        .encode());
    }

    static HttpResponse<String> refresh(TestServer server, String refreshToken) {
        return server.post(
                "/api/v1/token/refresh",
                null,
                new JsonObject().put("refresh_token", refreshToken).encode());
    }

    static int heartbeat(TestServer server, String accessToken) {
        return MainTest.heartbeat(server, accessToken);
    }

    @Test
    void twentyAgentsRacingForTenUsesEnrolExactlyTen() throws Exception {
        String token = enrollment("race", 10);
        try (TestServer server = new TestServer(env, false)) {
            ExecutorService pool = Executors.newFixedThreadPool(20);
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String host = "RACE-" + i;
                answers.add(CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                go.await();
                            } catch (InterruptedException e) {
                                throw new IllegalStateException(e);
                            }
                            return enroll(server, token, host);
                        },
                        pool));
            }
            go.countDown();
            Map<Integer, Integer> byStatus = new HashMap<>();
            List<String> reasons = new ArrayList<>();
            for (var answer : answers) {
                HttpResponse<String> r = answer.get();
                byStatus.merge(r.statusCode(), 1, Integer::sum);
                if (r.statusCode() == 401) {
                    reasons.add(new JsonObject(r.body()).getString("reason"));
                }
            }
            pool.shutdown();
            assertThat(byStatus).containsExactlyInAnyOrderEntriesOf(Map.of(200, 10, 401, 10));
            assertThat(reasons).containsOnly("enrollment_used_up");
            assertThat(db.query("SELECT count(*) AS n FROM agents WHERE enrolled_via = 'race'")
                            .get(0))
                    .containsEntry("n", 10L);
            assertThat(db.query("SELECT uses FROM enrollment_tokens WHERE name = 'race'")
                            .get(0))
                    .containsEntry("uses", 10);
            assertThat(cli(env, "enrollment", "list").out()).containsPattern("race\\s+10/10");
        }
    }

    @Test
    void aSecondPcClaimingAnEnrolledNameGetsADistinctIdAndRenewalRotatesTheRefreshCredential() {
        String token = enrollment("office", 5);
        try (TestServer server = new TestServer(env, false)) {
            JsonObject first = new JsonObject(enroll(server, token, "PC-01").body());
            JsonObject second = new JsonObject(enroll(server, token, "PC-01").body());
            assertThat(first.getString("agent_id")).isEqualTo("PC-01");
            assertThat(second.getString("agent_id")).isEqualTo("PC-01-2");
            assertThat(first.getLong("expires_in")).isEqualTo(3L);
            assertThat(payload(first.getString("access_token")).getString("sub"))
                    .isEqualTo("PC-01");
            assertThat(payload(second.getString("access_token")).getString("sub"))
                    .isEqualTo("PC-01-2");
            // an id given by `token create` is never handed out by enrolment either
            server.token("PC-02");
            assertThat(new JsonObject(enroll(server, token, "PC-02").body()).getString("agent_id"))
                    .isEqualTo("PC-02-2");

            assertThat(heartbeat(server, first.getString("access_token"))).isEqualTo(204);
            HttpResponse<String> renewed = refresh(server, first.getString("refresh_token"));
            assertThat(renewed.statusCode()).isEqualTo(200);
            JsonObject next = new JsonObject(renewed.body());
            assertThat(next.getString("agent_id")).isEqualTo("PC-01");
            assertThat(next.getString("refresh_token")).isNotEqualTo(first.getString("refresh_token"));
            assertThat(heartbeat(server, next.getString("access_token"))).isEqualTo(204);
            // the answer may have been lost: the credential it replaced still works, once the next one is in use no
            // more
            JsonObject retried = new JsonObject(
                    refresh(server, first.getString("refresh_token")).body());
            assertThat(refresh(server, retried.getString("refresh_token")).statusCode())
                    .isEqualTo(200);
            assertThat(refresh(server, first.getString("refresh_token")).statusCode())
                    .isEqualTo(401);

            var agents = db.query("SELECT agent_id, enrolled_via, os, enrolled_at IS NOT NULL AS dated FROM agents "
                    + "WHERE agent_id LIKE 'PC-01%' ORDER BY agent_id");
            assertThat(agents).extracting(a -> a.get("enrolled_via")).containsOnly("office");
            assertThat(agents).extracting(a -> a.get("os")).containsOnly("Windows 11");
            assertThat(agents).extracting(a -> a.get("dated")).containsOnly(true);
        }
    }

    @Test
    void anAccessTokenExpiresAndTheRefreshCredentialRecoversTheAgent() throws Exception {
        String token = enrollment("offline", 1);
        try (TestServer server = new TestServer(env, false)) {
            JsonObject credential =
                    new JsonObject(enroll(server, token, "LAPTOP-7").body());
            assertThat(heartbeat(server, credential.getString("access_token"))).isEqualTo(204);
            Thread.sleep(3_000 + 5_000 + 1_500); // lifetime + leeway: "offline" past expiry
            assertThat(heartbeat(server, credential.getString("access_token"))).isEqualTo(401);
            JsonObject renewed = new JsonObject(
                    refresh(server, credential.getString("refresh_token")).body());
            assertThat(heartbeat(server, renewed.getString("access_token"))).isEqualTo(204);
        }
    }

    /** Two servers on one database, as behind a balancer: a revocation made anywhere holds everywhere at once. */
    @Test
    void revocationHoldsOnASecondInstanceWithinOneSecond() {
        String token = enrollment("revoke", 2);
        try (TestServer one = new TestServer(env, false);
                TestServer two = new TestServer(env, false)) {
            JsonObject a = new JsonObject(enroll(one, token, "PC-R1").body());
            JsonObject b = new JsonObject(enroll(one, token, "PC-R2").body());
            assertThat(heartbeat(two, a.getString("access_token"))).isEqualTo(204);
            assertThat(cli(env, "token", "revoke", "--agent-id", "PC-R1").out()).isEqualTo("revoked 1 token(s)\n");
            long revoked = System.nanoTime();
            assertThat(heartbeat(two, a.getString("access_token"))).isEqualTo(401);
            assertThat(System.nanoTime() - revoked).isLessThan(1_000_000_000L);
            assertThat(refresh(two, a.getString("refresh_token")).statusCode()).isEqualTo(401);

            // revoking the refresh credential alone (its row, by TOKEN ID of token list) does the same
            String id = db.query("SELECT token_id::text AS id FROM agent_tokens WHERE agent_id = 'PC-R2'")
                    .get(0)
                    .get("id")
                    .toString();
            assertThat(cli(env, "token", "list").out()).containsPattern(id + "\\s+agent\\s+PC-R2\\s+enrolled");
            assertThat(cli(env, "token", "revoke", "--token-id", id).status()).isZero();
            assertThat(heartbeat(one, b.getString("access_token"))).isEqualTo(401);
            assertThat(refresh(one, b.getString("refresh_token")).statusCode()).isEqualTo(401);
            assertThat(logs()).doesNotContain(a.getString("refresh_token")).doesNotContain(id);
        }
    }

    /** What the logs hold: no token id, no refresh credential, only hash prefixes. */
    private static String logs() {
        try (var files = Files.walk(dir.resolve("logs"))) {
            StringBuilder all = new StringBuilder();
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                all.append(Files.readString(f));
            }
            return all.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aNewKeyFirstAndTheOldOneKeptRotatesWithoutReEnrolment() {
        String token = enrollment("rotate", 1);
        JsonObject credential;
        String admin;
        try (TestServer old = new TestServer(env, false)) {
            credential = new JsonObject(enroll(old, token, "PC-ROT").body());
            admin = old.adminToken("rotation-admin");
        }
        String newKey = Secrets.generate();
        Map<String, String> rotated = new HashMap<>(env);
        rotated.put("DOZOR_AUTH_TOKEN_SECRET", newKey + "," + TestServer.SECRET);
        try (TestServer server = new TestServer(rotated, false)) {
            // tokens signed with the old key still work, and the agent renews into the new key
            assertThat(MainTest.adminAgents(server, admin)).isEqualTo(200);
            JsonObject renewed = new JsonObject(
                    refresh(server, credential.getString("refresh_token")).body());
            assertThat(header(renewed.getString("access_token")).getString("kid"))
                    .isEqualTo(Secrets.keyId(newKey));
            assertThat(header(credential.getString("access_token")).getString("kid"))
                    .isEqualTo(Secrets.keyId(TestServer.SECRET));
            assertThat(heartbeat(server, renewed.getString("access_token"))).isEqualTo(204);
        }
        Map<String, String> newOnly = new HashMap<>(env);
        newOnly.put("DOZOR_AUTH_TOKEN_SECRET", newKey);
        try (TestServer server = new TestServer(newOnly, false)) {
            assertThat(MainTest.adminAgents(server, admin))
                    .as("the old key is gone")
                    .isEqualTo(401);
            JsonObject again = new JsonObject(
                    refresh(server, credential.getString("refresh_token")).body());
            assertThat(heartbeat(server, again.getString("access_token"))).isEqualTo(204);
        }
    }

    @Test
    void expiredRevokedUnknownAndMisusedEnrollmentTokensAreRefusedWithTheirReason() {
        String expired = enrollment("expired", 5);
        db.execute("UPDATE enrollment_tokens SET expires_at = now() - interval '1 second' WHERE name = 'expired'");
        String revoked = enrollment("revoked-one", 5);
        assertThat(cli(env, "enrollment", "revoke", "revoked-one").out())
                .isEqualTo("revoked enrollment token revoked-one\n");
        assertThat(cli(env, "enrollment", "revoke", "revoked-one").status()).isEqualTo(1);
        String forgotten = enrollment("forgotten", 5);
        db.execute("DELETE FROM enrollment_tokens WHERE name = 'forgotten'");
        try (TestServer server = new TestServer(env)) {
            assertThat(reason(enroll(server, expired, "X1"))).isEqualTo("enrollment_expired");
            assertThat(reason(enroll(server, revoked, "X2"))).isEqualTo("enrollment_revoked");
            assertThat(reason(enroll(server, forgotten, "X3"))).isEqualTo("enrollment_unknown");
            assertThat(reason(enroll(server, server.token("agent-x"), "X4")))
                    .as("an agent token")
                    .isEqualTo("enrollment_invalid");
            assertThat(reason(enroll(server, "not-a-jwt", "X5"))).isEqualTo("enrollment_invalid");
            assertThat(reason(enroll(server, null, "X6"))).isEqualTo("enrollment_invalid");
            assertThat(MainTest.heartbeat(server, expired))
                    .as("an enrollment token on an agent route")
                    .isEqualTo(401);
            assertThat(reason(refresh(server, "dzr_guess"))).isEqualTo("refresh_refused");
            assertThat(db.query("SELECT count(*) AS n FROM agents WHERE agent_id LIKE 'X_'")
                            .get(0))
                    .containsEntry("n", 0L);
            assertThat(server.ops("/metrics").body())
                    .contains("dozor_auth_failures_total{reason=\"enrollment_expired\"}")
                    .contains("# HELP dozor_auth_failures_total Requests refused");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
      empty body            | ''                                        | body: empty; expected a JSON object
      not JSON              | 'hostname=PC'                             | body: not a JSON object
      no hostname           | '{"os":"Windows"}'                        | hostname: missing
      hostname a number     | '{"hostname":5,"os":"Windows"}'           | hostname: must be a string
      blank hostname        | '{"hostname":"  ","os":"Windows"}'        | hostname: must not be empty
      hostname with a space | '{"hostname":"PC 1","os":"Windows"}'      | hostname: must not contain spaces
      hostname too long     | '{"hostname":"%s","os":"Windows"}'        | hostname: longer than 100 characters
      control character     | '{"hostname":"PC\\u0007","os":"Windows"}' | hostname: must not contain control character U+0007
      no os                 | '{"hostname":"PC"}'                       | os: missing
      """)
    void aBadEnrolBodyIsA400NamingTheFieldAndSpendsNoUse(String what, String body, String error) {
        String name = "bad-" + Integer.toHexString(what.hashCode());
        String token = enrollment(name, 1);
        try (TestServer server = new TestServer(env, false)) {
            HttpResponse<String> r = server.post("/api/v1/enroll", token, body.replace("%s", "P".repeat(101)));
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(new JsonObject(r.body()).getString("error")).isEqualTo(error);
            assertThat(db.query("SELECT uses FROM enrollment_tokens WHERE name = '" + name + "'")
                            .get(0))
                    .containsEntry("uses", 0);
            assertThat(enroll(server, token, "GOOD").statusCode()).isEqualTo(200);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
      no name       | enrollment create --uses 5 --expires 7d                  | Missing required option: '--name=NAME'
      bad name      | enrollment create --name a/b --uses 5 --expires 7d       | --name: 1 to 64 letters, digits
      zero uses     | enrollment create --name z --uses 0 --expires 7d         | --uses: must be from 1 to 1000000, got 0
      letters uses  | enrollment create --name z --uses many --expires 7d      | Invalid value for option '--uses'
      bad expiry    | enrollment create --name z --uses 5 --expires soon       | --expires: must be a duration such as 7d
      tiny expiry   | enrollment create --name z --uses 5 --expires 5s         | --expires: must be at least 1m
      bad revoke    | enrollment revoke a/b                                    | --name: 1 to 64 letters, digits
      token expiry  | token create --agent-id a --expires never                | --expires: must be a duration such as 7d
      """)
    void badCliArgumentsExitTwoWithOneLine(String what, String args, String error) {
        MainTest.Result r = cli(env, args.split(" "));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).contains(error);
        assertThat(r.out()).isEmpty();
    }

    @Test
    void aNameIsNeverReusedAndTokensCarryTheirExpiry() {
        enrollment("once", 1);
        MainTest.Result again = cli(env, "enrollment", "create", "--name", "once", "--uses", "1", "--expires", "1h");
        assertThat(again.status()).isEqualTo(2);
        assertThat(again.err())
                .isEqualTo("dozor-server: --name: an enrollment token named once exists already (see"
                        + " enrollment list; names are never reused)\n");
        String admin = cli(env, "token", "create", "--admin", "exp-admin", "--expires", "2h")
                .out()
                .strip();
        long exp = payload(admin).getLong("exp");
        assertThat(exp - System.currentTimeMillis() / 1000).isBetween(7100L, 7200L);
        String byDefault =
                cli(env, "token", "create", "--admin", "exp-default").out().strip();
        assertThat(payload(byDefault).getLong("exp") - System.currentTimeMillis() / 1000)
                .isBetween(90L * 86400 - 100, 90L * 86400);
        assertThat(cli(env, "token", "list").out()).containsPattern("admin\\s+exp-admin\\s+create\\s+\\S+\\s+\\S+");
    }

    @Test
    void secretGeneratePrintsAGoodSecret() {
        MainTest.Result r = cli(Map.of(), "secret", "generate");
        assertThat(r.status()).isZero();
        assertThat(r.out()).matches("[A-Za-z0-9_-]{43}\n");
        assertThat(Secrets.problem(r.out().strip())).isEmpty();
        assertThat(cli(Map.of(), "secret", "generate").out()).isNotEqualTo(r.out());
    }

    private static String reason(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
        return new JsonObject(r.body()).getString("reason");
    }

    static JsonObject payload(String jwt) {
        return part(jwt, 1);
    }

    static JsonObject header(String jwt) {
        return part(jwt, 0);
    }

    private static JsonObject part(String jwt, int i) {
        return new JsonObject(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[i]), StandardCharsets.UTF_8));
    }
}
