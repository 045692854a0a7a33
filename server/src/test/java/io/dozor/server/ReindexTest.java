package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Verifies that {@code reindex} rebuilds a lost Elasticsearch from PostgreSQL, once per event. */
class ReindexTest {
    @Test
    void reindexRebuildsLostIndicesFromPostgresAndRepeatingItDoublesNothing() {
        Elasticsearch es = Elasticsearch.shared();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            String prefix = "dozor-reindex-" + UUID.randomUUID().toString().substring(0, 8);
            Map<String, String> env = new HashMap<>(Map.of(
                    "DOZOR_HTTP_PLAIN",
                    "true",
                    "DOZOR_AUTH_TOKEN_SECRET",
                    TestServer.SECRET,
                    "DOZOR_POSTGRES_URL",
                    db.url(),
                    "DOZOR_ELASTICSEARCH_URLS",
                    es.url(),
                    "DOZOR_ELASTICSEARCH_INDEX_PREFIX",
                    prefix,
                    "DOZOR_LOG_DIR",
                    System.getProperty("java.io.tmpdir") + "/dozor-reindex-test-logs"));
            // the schema, then 2 500 events written as the server writes them, never indexed
            assertThat(run(env, "token", "create", "--agent-id", "pc-r").status())
                    .isZero();
            db.execute("""
          INSERT INTO events (event_id, "timestamp", username, process_name, agent_id, pid, hostname)
          SELECT gen_random_uuid(), timestamptz '2026-10-31 23:00:00+00' + g * interval '1 minute',
                 'user' || (g % 7), 'chrome.exe', 'pc-r', g, 'PC-R'
          FROM generate_series(1, 2500) AS g""");

            MainTest.Result first = run(env, "reindex");
            assertThat(first.status()).isZero();
            assertThat(first.out()).isEqualTo("reindexed 2500 events\n");
            assertThat(es.count(prefix + "-*")).isEqualTo(2500);
            assertThat(es.count(prefix + "-2026.10"))
                    .as("monthly indices by launch time")
                    .isEqualTo(59);

            MainTest.Result since = run(env, "reindex", "--since", "2026-11-01T00:00:00Z");
            assertThat(since.out()).isEqualTo("reindexed 2441 events\n");
            assertThat(es.count(prefix + "-*")).isEqualTo(2500);
            String anyDoc = es.post(
                    "/" + prefix + "-*/_search",
                    "{\"size\":1,\"version\":true,\"query\":{\"term\":{\"process.pid\":100}}}");
            assertThat(new JsonObject(anyDoc)
                            .getJsonObject("hits")
                            .getJsonArray("hits")
                            .getJsonObject(0)
                            .getLong("_version"))
                    .as("the same _id, overwritten")
                    .isEqualTo(2L);

            // not a terminal here: progress in plain lines, no carriage returns redrawing a bar
            java.io.ByteArrayOutputStream progress = new java.io.ByteArrayOutputStream();
            var result = io.dozor.server.index.Reindexer.run(
                    new io.dozor.server.config.ConfigLoader(env).loadForTools(java.util.Optional.empty()),
                    java.util.Optional.empty(),
                    new java.io.PrintStream(progress, true, java.nio.charset.StandardCharsets.UTF_8));
            assertThat(result.indexed()).isEqualTo(2500);
            assertThat(progress.toString(java.nio.charset.StandardCharsets.UTF_8))
                    .contains("reindex")
                    .doesNotContain("\r");

            MainTest.Result bad = run(env, "reindex", "--since", "yesterday");
            assertThat(bad.status()).isEqualTo(2);
            assertThat(bad.err()).startsWith("dozor-server: --since: must be RFC 3339");
        }
    }

    static MainTest.Result run(Map<String, String> env, String... args) {
        return MainTest.run(env, args);
    }
}
