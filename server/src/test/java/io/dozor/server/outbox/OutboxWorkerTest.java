package io.dozor.server.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.store.Migrations;
import io.dozor.server.store.Postgres;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
            var worker = new OutboxWorker(
                    vertx, pool, sink(items -> Future.succeededFuture(List.of())), java.time.Duration.ofHours(1));
            assertThat(worker.drainOnce().await()).isEqualTo(1);
            Map<String, Object> row = db.query(
                            "SELECT attempts, last_error, next_attempt_at > now() AS later FROM outbox")
                    .get(0);
            assertThat(row)
                    .containsEntry("attempts", 1)
                    .containsEntry("last_error", "no outcome from the sink")
                    .containsEntry("later", true);
            pool.close().await();
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void aLoneItemTheSinkThrowsOnIsRetriedUntilItHasFailedOftenEnoughThenDeadLettered() {
        Vertx vertx = Vertx.vertx();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            Pool pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
            withOneQueuedEvent(db, pool, vertx);
            var worker = new OutboxWorker(
                    vertx,
                    pool,
                    sink(items -> {
                        throw new IllegalStateException("boom");
                    }),
                    java.time.Duration.ofHours(1));
            // alone, nothing tells the sink's error from an outage it did not recognise: retried with backoff
            assertThat(worker.drainOnce().await()).isEqualTo(1);
            assertThat(db.query("SELECT attempts, last_error FROM outbox").get(0))
                    .containsEntry("attempts", 1)
                    .containsEntry("last_error", "IllegalStateException: boom");
            assertThat(db.count("dead_letters")).isZero();

            db.execute("UPDATE outbox SET attempts = " + OutboxWorker.PARK_ALONE_AFTER + ", next_attempt_at = now()");
            assertThat(worker.drainOnce().await()).isEqualTo(1);
            assertThat(db.count("outbox")).isZero();
            assertThat(db.query("SELECT sink, attempts, reason FROM dead_letters")
                            .get(0))
                    .containsEntry("sink", "test")
                    .containsEntry("attempts", OutboxWorker.PARK_ALONE_AFTER + 1)
                    .containsEntry("reason", "the sink failed on this item: IllegalStateException: boom");
            pool.close().await();
        } finally {
            vertx.close().await();
        }
    }

    /** Events 1..n queued for the sink "test"; returns their pks in order. */
    static List<Long> queued(PostgresDatabase db, Pool pool, Vertx vertx, int n) {
        Migrations.migrate(vertx, pool).await();
        db.execute("INSERT INTO events (event_id, \"timestamp\", username, process_name, agent_id) "
                + "SELECT gen_random_uuid(), now(), 'user' || g, 'app.exe', 'pc-1' FROM generate_series(1, " + n
                + ") g");
        db.execute("INSERT INTO outbox (sink, event_pk) SELECT 'test', id FROM events");
        return db.query("SELECT id FROM events ORDER BY id").stream()
                .map(r -> (Long) r.get("id"))
                .toList();
    }

    static Sink sink(
            int batchSize,
            java.util.function.BiFunction<SqlConnection, List<OutboxItem>, Future<List<Delivery>>> deliver) {
        return sink(batchSize, true, deliver);
    }

    static Sink sink(
            int batchSize,
            boolean writesToTransaction,
            java.util.function.BiFunction<SqlConnection, List<OutboxItem>, Future<List<Delivery>>> deliver) {
        return new Sink() {
            @Override
            public boolean writesToTransaction() {
                return writesToTransaction;
            }

            @Override
            public String name() {
                return "test";
            }

            @Override
            public int batchSize() {
                return batchSize;
            }

            @Override
            public Future<List<Delivery>> deliver(List<OutboxItem> items) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Future<List<Delivery>> deliver(SqlConnection tx, List<OutboxItem> items) {
                return deliver.apply(tx, items);
            }
        };
    }

    /** Drains until a drain claims nothing; the number of drains that claimed something. */
    static int drainAll(OutboxWorker worker) {
        int drains = 0;
        while (worker.drainOnce().await() > 0) {
            drains++;
        }
        return drains;
    }

    static List<Delivery> allDone(List<OutboxItem> items) {
        return items.stream().map(i -> Delivery.done(i.event().id())).toList();
    }

    /**
     * 200 events, every 7th poison, in batches of 50: the sink writes each item of an attempt into a
     * table of its own in the claiming transaction and fails the whole attempt when it holds a poison
     * item: either it throws at once, or it fails its future after writing (those writes must be undone). Every good item ends delivered exactly once (a failed
     * attempt's writes are undone), every poison item is dead-lettered with the sink's reason, nothing is
     * left in the outbox, and it took one drain per batch.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void itemsTheSinkFailsOnAreIsolatedAndDeadLetteredWhileTheRestIsDeliveredOnce(boolean throwing) {
        Vertx vertx = Vertx.vertx();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            Pool pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
            List<Long> pks = queued(db, pool, vertx, 200);
            db.execute("CREATE TABLE delivered (event_pk bigint NOT NULL)");
            Set<Long> poison = new HashSet<>();
            for (int i = 3; i < pks.size(); i += 7) {
                poison.add(pks.get(i));
            }
            AtomicInteger calls = new AtomicInteger();
            var worker = new OutboxWorker(
                    vertx,
                    pool,
                    sink(50, (tx, items) -> {
                        calls.incrementAndGet();
                        var bad = items.stream()
                                .filter(i -> poison.contains(i.event().id()))
                                .findFirst();
                        String reason = bad.map(
                                        b -> "cannot render event " + b.event().id())
                                .orElse(null);
                        if (throwing && bad.isPresent()) {
                            throw new java.time.DateTimeException(reason);
                        }
                        Long[] batch = items.stream().map(i -> i.event().id()).toArray(Long[]::new);
                        return tx.preparedQuery("INSERT INTO delivered SELECT unnest($1::bigint[])")
                                .execute(Tuple.tuple().addArrayOfLong(batch))
                                .compose(written -> bad.isEmpty()
                                        ? Future.succeededFuture(allDone(items))
                                        : Future.failedFuture(new IllegalArgumentException(reason)));
                    }),
                    java.time.Duration.ofHours(1));

            int drains = drainAll(worker);

            assertThat(drains).isEqualTo(4);
            assertThat(db.count("outbox")).isZero();
            Map<Long, Long> deliveredTimes = new HashMap<>();
            db.query("SELECT event_pk, count(*) AS n FROM delivered GROUP BY event_pk")
                    .forEach(r -> deliveredTimes.put((Long) r.get("event_pk"), (Long) r.get("n")));
            Set<Long> good = new HashSet<>(pks);
            good.removeAll(poison);
            assertThat(deliveredTimes.keySet()).containsExactlyInAnyOrderElementsOf(good);
            assertThat(deliveredTimes.values()).containsOnly(1L);
            List<Map<String, Object>> dead = db.query("SELECT event_pk, reason FROM dead_letters WHERE sink = 'test'");
            assertThat(dead).extracting(r -> (Long) r.get("event_pk")).containsExactlyInAnyOrderElementsOf(poison);
            String kind = throwing ? "DateTimeException" : "IllegalArgumentException";
            assertThat(dead)
                    .allSatisfy(r -> assertThat((String) r.get("reason"))
                            .isEqualTo("the sink failed on this item: " + kind + ": cannot render event "
                                    + r.get("event_pk")));
            // bisection: at most 2·n − 1 attempts per batch of n, however dense the poison
            assertThat(calls.get()).isLessThanOrEqualTo(4 * (2 * 50 - 1));
            pool.close().await();
        } finally {
            vertx.close().await();
        }
    }

    /**
     * A sink that never writes to the claiming transaction (as Elasticsearch) is delivered to without savepoints:
     * its failed attempts must leave that transaction usable all the same, so the same isolation holds: 100
     * events, every 9th poison, batches of 50; each good item is acknowledged once, each poison one is
     * dead-lettered, the outbox ends empty.
     */
    @Test
    void aSinkOutsideTheTransactionIsIsolatedWithoutSavepoints() {
        Vertx vertx = Vertx.vertx();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            Pool pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
            List<Long> pks = queued(db, pool, vertx, 100);
            Set<Long> poison = new HashSet<>();
            for (int i = 2; i < pks.size(); i += 9) {
                poison.add(pks.get(i));
            }
            Map<Long, Integer> acknowledged = new HashMap<>();
            var worker = new OutboxWorker(
                    vertx,
                    pool,
                    sink(50, false, (tx, items) -> {
                        if (items.stream()
                                .anyMatch(i -> poison.contains(i.event().id()))) {
                            return Future.failedFuture(new IllegalArgumentException("refused"));
                        }
                        items.forEach(i -> acknowledged.merge(i.event().id(), 1, Integer::sum));
                        return Future.succeededFuture(allDone(items));
                    }),
                    java.time.Duration.ofHours(1));

            int drains = drainAll(worker);

            assertThat(drains).isEqualTo(2);
            assertThat(db.count("outbox")).isZero();
            Set<Long> good = new HashSet<>(pks);
            good.removeAll(poison);
            assertThat(acknowledged.keySet()).containsExactlyInAnyOrderElementsOf(good);
            assertThat(acknowledged.values()).containsOnly(1);
            assertThat(db.query("SELECT event_pk FROM dead_letters WHERE sink = 'test'"))
                    .extracting(r -> (Long) r.get("event_pk"))
                    .containsExactlyInAnyOrderElementsOf(poison);
            pool.close().await();
        } finally {
            vertx.close().await();
        }
    }

    /** An outage (here an IOException) retries the whole batch with backoff: no halves, no dead letters. */
    @Test
    void anOutageRetriesTheWholeBatchAndDeadLettersNothing() {
        Vertx vertx = Vertx.vertx();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            Pool pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
            queued(db, pool, vertx, 20);
            AtomicInteger calls = new AtomicInteger();
            var worker = new OutboxWorker(
                    vertx,
                    pool,
                    sink(50, (tx, items) -> {
                        calls.incrementAndGet();
                        return Future.failedFuture(new java.net.ConnectException("Connection refused"));
                    }),
                    java.time.Duration.ofHours(1));
            db.execute("UPDATE outbox SET attempts = " + (OutboxWorker.PARK_ALONE_AFTER + 5));

            assertThat(worker.drainOnce().await()).isEqualTo(20);

            assertThat(calls.get()).isEqualTo(1);
            assertThat(db.count("dead_letters")).isZero();
            assertThat(db.query("SELECT count(*) AS n FROM outbox WHERE next_attempt_at > now() "
                                    + "AND last_error = 'ConnectException: Connection refused'")
                            .get(0))
                    .containsEntry("n", 20L);
            pool.close().await();
        } finally {
            vertx.close().await();
        }
    }

    /**
     * Each Telegram chat, Elasticsearch and the log are separate sinks: one whose items all fail does not
     * hold up another's. Here the poison sink fails every attempt (an item error that never resolves) and
     * the good sink, drained between, is emptied in one drain each time.
     */
    @Test
    void aSinkFailingOnItsItemsDoesNotDelayAnotherSink() {
        Vertx vertx = Vertx.vertx();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            Pool pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
            queued(db, pool, vertx, 30);
            db.execute("INSERT INTO outbox (sink, event_pk) SELECT 'other', id FROM events");
            var failing = new OutboxWorker(
                    vertx,
                    pool,
                    sink(50, (tx, items) -> {
                        throw new IllegalStateException("always");
                    }),
                    java.time.Duration.ofHours(1));
            var good = new OutboxWorker(
                    vertx,
                    pool,
                    new Sink() {
                        @Override
                        public String name() {
                            return "other";
                        }

                        @Override
                        public int batchSize() {
                            return 50;
                        }

                        @Override
                        public Future<List<Delivery>> deliver(List<OutboxItem> items) {
                            return Future.succeededFuture(allDone(items));
                        }
                    },
                    java.time.Duration.ofHours(1));

            assertThat(failing.drainOnce().await()).isEqualTo(30);
            assertThat(good.drainOnce().await()).isEqualTo(30);
            assertThat(db.count("outbox WHERE sink = 'other'")).isZero();
            assertThat(db.count("outbox WHERE sink = 'test'"))
                    .as("no proof it is the items: retried")
                    .isEqualTo(30);
            assertThat(db.count("dead_letters")).isZero();
            pool.close().await();
        } finally {
            vertx.close().await();
        }
    }
}
