package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.auth.Secrets;
import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.PostgresDatabase;
import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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
        return enroll(server, token, hostname, null);
    }

    /** With {@code key} as {@code enrollment_key} (none when null). */
    static HttpResponse<String> enroll(TestServer server, String token, String hostname, String key) {
        JsonObject body = new JsonObject().put("hostname", hostname).put("os", "Windows 11");
        if (key != null) {
            body.put("enrollment_key", key);
        }
        return server.post("/api/v1/enroll", token, body.encode());
    }

    /** An enrollment key as the agent makes one: 32 random bytes, base64url. */
    static String newKey() {
        return Secrets.generate();
    }

    static int uses(String enrollment) {
        return (Integer) db.query("SELECT uses FROM enrollment_tokens WHERE name = $1", enrollment)
                .get(0)
                .get("uses");
    }

    /** The enrolled sessions of {@code agentId}: whether each is revoked, oldest first. */
    static List<Object> sessionsRevoked(String agentId) {
        return db
                .query(
                        "SELECT revoked_at IS NOT NULL AS revoked FROM agent_tokens WHERE agent_id = $1"
                                + " ORDER BY created_at, revoked_at NULLS LAST",
                        agentId)
                .stream()
                .map(r -> r.get("revoked"))
                .toList();
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
                String key = i % 2 == 0 ? newKey() : null; // agents of this version and older ones
                answers.add(CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                go.await();
                            } catch (InterruptedException e) {
                                throw new IllegalStateException(e);
                            }
                            return enroll(server, token, host, key);
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
                    .as("a refused enrolment leaves no agent behind (its id was claimed before the use was refused)")
                    .containsEntry("n", 10L);
            assertThat(db.query("SELECT count(*) AS n FROM agents WHERE agent_id LIKE 'RACE-%'")
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
            // server two had the token cached: PostgreSQL's notification of the revocation makes it drop it
            io.dozor.testkit.Wait.until(
                    "401 on the second instance",
                    Duration.ofSeconds(1),
                    () -> heartbeat(two, a.getString("access_token")) == 401);
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

    /**
     * The answer to an enrolment that committed is lost (the client ignored it): the retry with the same key gets
     * a new credential for the same agent, spends no use and the lost credential no longer works. Once the agent
     * has used its credential the key enrols anew (it never takes over a working agent).
     */
    @Test
    void aRetryWithTheSameKeyGetsTheSameAgentAndSpendsNoUse() {
        String token = enrollment("retry", 3);
        String key = newKey();
        try (TestServer server = new TestServer(env, false)) {
            JsonObject lost = new JsonObject(enroll(server, token, "PC-K1", key).body());
            assertThat(lost.getString("agent_id")).isEqualTo("PC-K1");
            assertThat(uses("retry")).isEqualTo(1);

            HttpResponse<String> retried = enroll(server, token, "PC-K1", key);
            assertThat(retried.statusCode()).isEqualTo(200);
            JsonObject credential = new JsonObject(retried.body());
            assertThat(credential.getString("agent_id")).isEqualTo("PC-K1");
            assertThat(credential.getString("refresh_token")).isNotEqualTo(lost.getString("refresh_token"));
            assertThat(uses("retry")).isEqualTo(1);
            assertThat(db.query("SELECT count(*) AS n FROM agents WHERE enrolled_via = 'retry'")
                            .get(0))
                    .containsEntry("n", 1L);
            assertThat(sessionsRevoked("PC-K1")).containsExactly(true, false);
            assertThat(heartbeat(server, lost.getString("access_token")))
                    .as("the lost credential is revoked")
                    .isEqualTo(401);
            assertThat(refresh(server, lost.getString("refresh_token")).statusCode())
                    .isEqualTo(401);
            assertThat(heartbeat(server, credential.getString("access_token"))).isEqualTo(204);

            // PC-K1 made a request: the same key again is not a retry any more, but a new enrolment (a use, a new id)
            JsonObject again =
                    new JsonObject(enroll(server, token, "PC-K1", key).body());
            assertThat(again.getString("agent_id")).isEqualTo("PC-K1-2");
            assertThat(uses("retry")).isEqualTo(2);
            assertThat(heartbeat(server, credential.getString("access_token"))).isEqualTo(204);
            assertThat(sessionsRevoked("PC-K1")).containsExactly(true, false);
            // whose own lost answer is retried in turn, on a used-up token
            assertThat(new JsonObject(enroll(server, token, "PC-K1", key).body()).getString("agent_id"))
                    .isEqualTo("PC-K1-2");
            assertThat(uses("retry")).isEqualTo(2);
            // another installation of the same name, with its own key: a new agent as without keys
            assertThat(new JsonObject(enroll(server, token, "PC-K1", newKey()).body()).getString("agent_id"))
                    .isEqualTo("PC-K1-3");
            assertThat(uses("retry")).isEqualTo(3);
            // and renewal, not only heartbeats, counts as use
            JsonObject renewed = new JsonObject(refresh(
                            server,
                            new JsonObject(enroll(server, token, "PC-K1", key).body()).getString("refresh_token"))
                    .body());
            assertThat(renewed.getString("agent_id")).isEqualTo("PC-K1-2");
            assertThat(reason(enroll(server, token, "PC-K1", key))).isEqualTo("enrollment_used_up");
            assertThat(logs()).doesNotContain(key);
        }
    }

    /**
     * The fleet benchmark's case: the enrolment is answered 503 (the server's 5 s reply timeout) while its
     * transaction waits, and commits after; the agent's retry, sent while the first attempt still runs, waits for
     * it and gets the same agent, on a token with one use.
     */
    @Test
    void anEnrolmentAnswered503ThatCommitsAfterIsRetriedIntoTheSameAgent() throws Exception {
        String token = enrollment("slow", 1);
        String key = newKey();
        try (TestServer server = new TestServer(env, false)) {
            HttpResponse<String> first;
            CompletableFuture<HttpResponse<String>> retry;
            try (AutoCloseable hold =
                    db.holdTransaction("SELECT 1 FROM enrollment_tokens WHERE name = 'slow' FOR UPDATE")) {
                first = enroll(server, token, "PC-S1", key);
                assertThat(first.statusCode()).as(first.body()).isEqualTo(503);
                retry = CompletableFuture.supplyAsync(() -> enroll(server, token, "PC-S1", key));
                Wait.until(
                        "the retry waits for the first attempt",
                        Duration.ofSeconds(4),
                        () -> (Long) db.query(
                                                "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                                        .get(0)
                                        .get("n")
                                == 1L);
                assertThat(retry).isNotDone();
            }
            HttpResponse<String> retried = retry.get(10, TimeUnit.SECONDS);
            assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
            JsonObject credential = new JsonObject(retried.body());
            assertThat(credential.getString("agent_id")).isEqualTo("PC-S1");
            assertThat(uses("slow")).isEqualTo(1);
            assertThat(sessionsRevoked("PC-S1"))
                    .as("the first attempt committed its session, the retry replaced it")
                    .containsExactly(true, false);
            assertThat(heartbeat(server, credential.getString("access_token"))).isEqualTo(204);
        }
    }

    /** A revoked agent stays revoked: its key enrols a new agent; a revoked enrollment token gives nothing. */
    @Test
    void aKeyNeverUndoesARevocation() {
        String token = enrollment("undo", 3);
        String key = newKey();
        try (TestServer server = new TestServer(env, false)) {
            JsonObject lost = new JsonObject(enroll(server, token, "PC-V", key).body());
            assertThat(cli(env, "token", "revoke", "--agent-id", "PC-V").out()).isEqualTo("revoked 1 token(s)\n");
            JsonObject retried =
                    new JsonObject(enroll(server, token, "PC-V", key).body());
            assertThat(retried.getString("agent_id")).isEqualTo("PC-V-2");
            assertThat(uses("undo")).isEqualTo(2);
            assertThat(sessionsRevoked("PC-V")).containsExactly(true);
            assertThat(heartbeat(server, lost.getString("access_token"))).isEqualTo(401);

            assertThat(cli(env, "enrollment", "revoke", "undo").status()).isZero();
            assertThat(reason(enroll(server, token, "PC-V", key))).isEqualTo("enrollment_revoked");
            assertThat(sessionsRevoked("PC-V-2")).containsExactly(false);
            assertThat(uses("undo")).isEqualTo(2);
        }
    }

    /**
     * Enrolments with one token overlap: one whose agent id is held up (another transaction is inserting that
     * id) does not hold the token's row, so another PC enrols meanwhile; the held one completes after.
     */
    @Test
    void anEnrolmentWaitingForItsAgentIdDoesNotHoldUpTheOthers() throws Exception {
        String token = enrollment("overlap", 2);
        try (TestServer server = new TestServer(env, false)) {
            CompletableFuture<HttpResponse<String>> held;
            try (AutoCloseable hold = db.holdTransaction("INSERT INTO agents (agent_id) VALUES ('PC-HELD')")) {
                held = CompletableFuture.supplyAsync(() -> enroll(server, token, "PC-HELD", newKey()));
                Wait.until(
                        "the enrolment of PC-HELD waits for its id",
                        Duration.ofSeconds(4),
                        () -> (Long) db.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname ="
                                                + " current_database() AND wait_event_type = 'Lock'")
                                        .get(0)
                                        .get("n")
                                == 1L);
                long t0 = System.nanoTime();
                HttpResponse<String> other = enroll(server, token, "PC-FREE", newKey());
                assertThat(other.statusCode()).as(other.body()).isEqualTo(200);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
                assertThat(held).isNotDone();
            }
            HttpResponse<String> done = held.get(10, TimeUnit.SECONDS);
            assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
            assertThat(new JsonObject(done.body()).getString("agent_id")).isEqualTo("PC-HELD");
            assertThat(uses("overlap")).isEqualTo(2);
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
      key empty             | '{"hostname":"PC","os":"W","enrollment_key":""}'      | enrollment_key: must not be empty (leave the field out when there is none)
      key a number          | '{"hostname":"PC","os":"W","enrollment_key":12345}'   | enrollment_key: must be a string
      key too long          | '{"hostname":"PC","os":"W","enrollment_key":"%k87"}'  | enrollment_key: longer than 86 characters
      key too short         | '{"hostname":"PC","os":"W","enrollment_key":"%k21"}'  | enrollment_key: shorter than 22 characters (at least 128 random bits)
      key base64 not url    | '{"hostname":"PC","os":"W","enrollment_key":"ab+cd/efghijklmnopqrstuvwxyz=="}' | enrollment_key: must be base64url (letters, digits, - and _)
      key with a space      | '{"hostname":"PC","os":"W","enrollment_key":"abcdefghijk lmnopqrstuvwxyz"}'  | enrollment_key: must be base64url (letters, digits, - and _)
      key control character | '{"hostname":"PC","os":"W","enrollment_key":"abcdefghijklmnopqrstuvwxyz\\u0000"}' | enrollment_key: must be base64url (letters, digits, - and _)
      """)
    void aBadEnrolBodyIsA400NamingTheFieldAndSpendsNoUse(String what, String body, String error) {
        String name = "bad-" + Integer.toHexString(what.hashCode());
        String token = enrollment(name, 1);
        try (TestServer server = new TestServer(env, false)) {
            HttpResponse<String> r = server.post(
                    "/api/v1/enroll",
                    token,
                    body.replace("%s", "P".repeat(101))
                            .replace("%k87", "k".repeat(87))
                            .replace("%k21", "k".repeat(21)));
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
