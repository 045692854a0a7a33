package io.dozor.server.retention;

import static org.assertj.core.api.Assertions.assertThat;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest5_client.Rest5ClientTransport;
import co.elastic.clients.transport.rest5_client.low_level.Rest5Client;
import io.dozor.server.config.ConfigLoader;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.store.Migrations;
import io.dozor.server.store.Postgres;
import io.dozor.server.store.Sql;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Verifies that only one retention run works at a time, across instances, through the advisory lock. */
class RetentionLockTest {
    @Test
    void aRunWhileAnotherHoldsTheLockSkipsAndTwoConcurrentRunsRemoveOnce() {
        Vertx vertx = Vertx.vertx();
        Elasticsearch es = Elasticsearch.shared();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            ServerConfig config = new ConfigLoader(Map.of(
                            "DOZOR_HTTP_PLAIN", "true",
                            "DOZOR_AUTH_TOKEN_SECRET", "test-Kq8vZr2LmX9pWd4NcY7bHs1FgJ6eTa5u",
                            "DOZOR_POSTGRES_URL", db.url(),
                            "DOZOR_ELASTICSEARCH_URLS", es.url(),
                            "DOZOR_ELASTICSEARCH_INDEX_PREFIX", "dozor-lock-test",
                            "DOZOR_RETENTION_DAYS", "30"))
                    .load(Optional.empty());
            Pool first = Postgres.pool(vertx, config.postgres());
            Pool second = Postgres.pool(vertx, config.postgres());
            Migrations.migrate(vertx, first).await();
            db.execute("""
          INSERT INTO events (event_id, "timestamp", username, process_name, agent_id)
          SELECT gen_random_uuid(), timestamptz '2020-01-01 00:00:00+00' + g * interval '1 day', 'u', 'p', 'pc'
          FROM generate_series(0, 59) AS g""");
            Rest5Client rest =
                    Rest5Client.builder(List.of(URI.create(es.url()))).build();
            var client = new ElasticsearchAsyncClient(new Rest5ClientTransport(rest, new JacksonJsonpMapper()));
            Retention one = new Retention(first, client, vertx.getOrCreateContext(), config, Clock.systemUTC());
            Retention two = new Retention(second, client, vertx.getOrCreateContext(), config, Clock.systemUTC());

            // another instance is in the middle of a run: this one does nothing
            PgConnection holder = PgConnection.connect(vertx, db.url()).await();
            holder.preparedQuery("SELECT pg_advisory_lock($1)")
                    .execute(Tuple.of(Sql.RETENTION_LOCK))
                    .await();
            Retention.Report skipped = one.run(false).await();
            assertThat(skipped.skipped()).isTrue();
            assertThat(skipped.removed()).isEmpty();
            assertThat(db.count("events")).isEqualTo(60);
            assertThat(db.count("events_default"))
                    .as("not even a partition made")
                    .isEqualTo(60);
            holder.close().await();

            // two at once: one does the work, the other skips or finds nothing left; nothing is removed twice
            List<Retention.Report> reports =
                    Future.all(one.run(false), two.run(false)).await().list();
            assertThat(reports.stream().filter(r -> !r.skipped() && r.removed().get("events") > 0))
                    .hasSize(1);
            assertThat(reports.stream()
                            .mapToLong(r -> r.removed().getOrDefault("events", 0L))
                            .sum())
                    .isEqualTo(60);
            assertThat(reports.stream()
                            .mapToLong(r -> r.removed().getOrDefault("partitions", 0L))
                            .sum())
                    .isEqualTo(2);
            assertThat(reports).allMatch(r -> r.problems().isEmpty());
            assertThat(db.count("events")).isZero();
            // the lock is free again afterwards
            assertThat(db.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' "
                                    + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
                            .get(0))
                    .containsEntry("n", 0L);
            rest.close();
            first.close().await();
            second.close().await();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            vertx.close().await();
        }
    }
}
