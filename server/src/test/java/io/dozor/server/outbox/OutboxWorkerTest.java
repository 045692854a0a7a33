package io.dozor.server.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.store.Migrations;
import io.dozor.server.store.Postgres;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Verifies the outbox worker's bookkeeping on a real PostgreSQL with sinks that misbehave. */
class OutboxWorkerTest {
  static Sink sink(java.util.function.Function<List<OutboxItem>, Future<List<Delivery>>> deliver) {
    return new Sink() {
      @Override
      public String name() {
        return "test";
      }

      @Override
      public int batchSize() {
        return 10;
      }

      @Override
      public Future<List<Delivery>> deliver(List<OutboxItem> items) {
        return deliver.apply(items);
      }
    };
  }

  static void withOneQueuedEvent(PostgresDatabase db, Pool pool, Vertx vertx) {
    Migrations.migrate(vertx, pool).await();
    db.execute("INSERT INTO events (event_id, \"timestamp\", username, process_name, agent_id) "
        + "VALUES (gen_random_uuid(), now(), 'ivanov', 'chrome.exe', 'pc-1')");
    db.execute("INSERT INTO outbox (sink, event_pk) SELECT 'test', id FROM events");
  }

  @Test
  void aRowTheSinkSaysNothingAboutIsRetriedNotForgotten() {
    Vertx vertx = Vertx.vertx();
    try (PostgresDatabase db = PostgresDatabase.create()) {
      Pool pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
      withOneQueuedEvent(db, pool, vertx);
      var worker = new OutboxWorker(vertx, pool, sink(items -> Future.succeededFuture(List.of())),
          java.time.Duration.ofHours(1));
      assertThat(worker.drainOnce().await()).isEqualTo(1);
      Map<String, Object> row = db.query("SELECT attempts, last_error, next_attempt_at > now() AS later FROM outbox")
          .get(0);
      assertThat(row).containsEntry("attempts", 1).containsEntry("last_error", "no outcome from the sink")
          .containsEntry("later", true);
      pool.close().await();
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aSinkThatThrowsHasItsBatchRetriedWithTheReason() {
    Vertx vertx = Vertx.vertx();
    try (PostgresDatabase db = PostgresDatabase.create()) {
      Pool pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
      withOneQueuedEvent(db, pool, vertx);
      var worker = new OutboxWorker(vertx, pool, sink(items -> {
        throw new IllegalStateException("boom");
      }), java.time.Duration.ofHours(1));
      assertThat(worker.drainOnce().await()).isEqualTo(1);
      assertThat(db.query("SELECT attempts, last_error FROM outbox").get(0))
          .containsEntry("attempts", 1).containsEntry("last_error", "boom");
      pool.close().await();
    } finally {
      vertx.close().await();
    }
  }
}
