package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.Wait;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The token cache on a real server and PostgreSQL: a working agent's requests after the first are answered
 * without the registration query, and revocations by another process (`token revoke`), lost notifications and
 * the token's own expiry still refuse the token in bounded time.
 */
class TokenCacheTest {
    static final String CACHED = "dozor_auth_token_checks_total{result=\"cached\"}";
    static final String QUERIED = "dozor_auth_token_checks_total{result=\"queried\"}";
    /** Much longer than any wait below: a refusal within a test's wait is not the cache lifetime's doing. */
    static final String LONG_TTL = "10m";

    @RegisterExtension
    static final ServerStack stack = ServerStack.builder()
            .env("DOZOR_AUTH_TOKEN_CACHE_TTL", LONG_TTL)
            // two ingest verticles, one cache: an agent's requests may land on either
            .env("DOZOR_HTTP_INSTANCES", "2")
            // no per-agent buckets: the polls below would get 429 before the token is checked
            .env("DOZOR_INGEST_RATE_PER_AGENT", "0")
            .build();

    static int heartbeat(TestServer server, String token) {
        return server.post("/api/v1/heartbeat", token, "{\"version\":\"0.1.0\",\"hostname\":\"PC-CACHE\"}")
                .statusCode();
    }

    /**
     * Revokes the agent's tokens as a connection with triggers off would: no notification is sent, as if the
     * listener had missed it.
     */
    static void revokeSilently(String agentId) {
        stack.db()
                .execute("BEGIN; SET LOCAL session_replication_role = replica; "
                        + "UPDATE agent_tokens SET revoked_at = now() WHERE agent_id = '" + agentId + "'; COMMIT");
    }

    static void until401(TestServer server, String token, Duration within) {
        Wait.until("401 for the revoked or expired token", within, () -> heartbeat(server, token) == 401);
    }

    @Test
    void aWorkingAgentCostsOneCheckQueryAndRevocationByTheCliHoldsAtOnce() {
        TestServer server = stack.server();
        String token = server.token("pc-cache-cli");
        double cached = server.metric(CACHED);
        double queried = server.metric(QUERIED);
        for (int i = 0; i < 5; i++) {
            assertThat(heartbeat(server, token)).isEqualTo(204);
        }
        assertThat(server.metric(QUERIED) - queried).isEqualTo(1);
        assertThat(server.metric(CACHED) - cached).isEqualTo(4);

        long start = System.nanoTime();
        assertThat(TokenAdmin.revoke(server.config, null, "pc-cache-cli")).isEqualTo(1);
        until401(server, token, Duration.ofSeconds(5));
        System.out.printf(
                "revocation by another connection held after %d ms%n", (System.nanoTime() - start) / 1_000_000);

        // refusals are never cached: each one asks the database
        queried = server.metric(QUERIED);
        cached = server.metric(CACHED);
        assertThat(heartbeat(server, token)).isEqualTo(401);
        assertThat(heartbeat(server, token)).isEqualTo(401);
        assertThat(server.metric(QUERIED) - queried).isEqualTo(2);
        assertThat(server.metric(CACHED) - cached).isZero();
    }

    @Test
    void aLostNotificationIsMadeGoodWhenTheListenerReconnects() {
        TestServer server = stack.server();
        String token = server.token("pc-cache-lost");
        assertThat(heartbeat(server, token)).isEqualTo(204);
        revokeSilently("pc-cache-lost");
        // the revocation was not notified: the cache still answers for the token
        assertThat(heartbeat(server, token)).isEqualTo(204);

        Map<String, Object> listener = stack.db()
                .query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND query LIKE 'LISTEN%dozor_token_revoked%'")
                .get(0);
        stack.db().query("SELECT pg_terminate_backend($1)", listener.get("pid"));
        Wait.until(
                "the revocation listener back on a new connection",
                Duration.ofSeconds(10),
                () -> !stack.db()
                        .query(
                                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                        + " AND query LIKE 'LISTEN%dozor_token_revoked%' AND pid <> $1",
                                listener.get("pid"))
                        .isEmpty());
        until401(server, token, Duration.ofSeconds(5));
    }

    @Test
    void anExpiredTokenIsNotServedFromTheCachePastItsExpiry() {
        TestServer server = stack.server();
        String token = server.token("pc-cache-expiry");
        stack.db()
                .execute("UPDATE agent_tokens SET expires_at = now() + interval '3 seconds'"
                        + " WHERE agent_id = 'pc-cache-expiry'");
        double cached = server.metric(CACHED);
        assertThat(heartbeat(server, token)).isEqualTo(204);
        assertThat(heartbeat(server, token)).isEqualTo(204);
        assertThat(server.metric(CACHED) - cached)
                .as("the second request was answered by the cache")
                .isEqualTo(1);
        until401(server, token, Duration.ofSeconds(8));
    }

    /** A second server on the same database, with its own cache lifetime (its metrics are not scraped). */
    static TestServer serverWithCacheTtl(String ttl) {
        Map<String, String> env = stack.env();
        env.put("DOZOR_AUTH_TOKEN_CACHE_TTL", ttl);
        return new TestServer(env, false);
    }

    @Test
    void theCacheLifetimeBoundsARevocationMissedWhileNobodyListened() {
        try (TestServer server = serverWithCacheTtl("3s")) {
            String token = server.token("pc-cache-ttl");
            assertThat(heartbeat(server, token)).isEqualTo(204);
            long cachedAt = System.nanoTime();
            revokeSilently("pc-cache-ttl");
            assertThat(heartbeat(server, token)).as("still cached").isEqualTo(204);
            until401(server, token, Duration.ofSeconds(10));
            assertThat(Duration.ofNanos(System.nanoTime() - cachedAt))
                    .as("refused when the cached answer ended, not before")
                    .isGreaterThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void aZeroCacheLifetimeAsksTheDatabaseEveryTime() {
        try (TestServer server = serverWithCacheTtl("0s")) {
            String token = server.token("pc-cache-off");
            assertThat(heartbeat(server, token)).isEqualTo(204);
            revokeSilently("pc-cache-off");
            assertThat(heartbeat(server, token)).isEqualTo(401);
        }
    }
}
