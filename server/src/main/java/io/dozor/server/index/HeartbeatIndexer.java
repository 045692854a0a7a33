package io.dozor.server.index;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import io.dozor.server.outbox.Backoff;
import io.dozor.server.outbox.Failures;
import io.dozor.server.store.Sql;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the heartbeats table into Elasticsearch ({@code dozor-heartbeats-YYYY.MM}, {@code _id} = row id, so a
 * repeat overwrites), with the durability of the launches' outbox: due rows are claimed with
 * {@code FOR UPDATE SKIP LOCKED} (several servers share the work), indexed in one bulk request, and in the
 * same transaction deleted when Elasticsearch has them, rescheduled with backoff when it is out (a failed
 * request, or an item answered 429/5xx), or kept with {@code next_attempt_at = 'infinity'} and the error when
 * Elasticsearch refuses the document. Rows older than {@code retention.days} go, indexed or not (0 keeps them).
 * Runs on the deploying verticle's event loop, one drain at a time, every poll interval.
 */
final class HeartbeatIndexer {
    private static final Logger log = LoggerFactory.getLogger(HeartbeatIndexer.class);
    static final int BATCH = 500;
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);

    private final Vertx vertx;
    private final Context context;
    private final Pool pool;
    private final ElasticsearchAsyncClient client;
    private final Duration pollInterval;
    private final int retentionDays;
    private boolean failing;
    private boolean stopped;
    private long timer = -1;
    /** The drain running, or the last one; a new drain starts only when it is complete. */
    private Future<Integer> inFlight = Future.succeededFuture(0);

    HeartbeatIndexer(
            Vertx vertx,
            Context context,
            Pool pool,
            ElasticsearchAsyncClient client,
            Duration pollInterval,
            int retentionDays) {
        this.vertx = vertx;
        this.context = context;
        this.pool = pool;
        this.client = client;
        this.pollInterval = pollInterval;
        this.retentionDays = retentionDays;
    }

    void start() {
        if (stopped) {
            return;
        }
        timer = vertx.setPeriodic(pollInterval.toMillis(), id -> tick());
        tick();
    }

    /**
     * Stops draining: no new drain starts, and the future completes once the drain in flight has ended (at most
     * {@code STOP_WAIT}), so the shared pool is not closed under it (which would log a failed drain at every stop).
     */
    Future<Void> stop() {
        stopped = true;
        vertx.cancelTimer(timer);
        return inFlight.timeout(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                .<Void>mapEmpty()
                .otherwiseEmpty();
    }

    private void tick() {
        if (!inFlight.isComplete() || stopped) {
            return;
        }
        inFlight = expire().compose(v -> drainOnce());
        inFlight.onComplete(ar -> {
            if (stopped) {
                return;
            }
            if (ar.failed()) {
                if (!failing) {
                    log.warn(
                            "heartbeat indexing failed, retrying [error={}]",
                            ar.cause().getMessage());
                }
                failing = true;
                return;
            }
            if (failing) {
                log.info("heartbeat indexing recovered");
                failing = false;
            }
            if (ar.result() == BATCH) {
                vertx.runOnContext(v -> tick());
            }
        });
    }

    private Future<Void> expire() {
        if (retentionDays == 0) {
            return Future.succeededFuture();
        }
        return pool.preparedQuery(Sql.HEARTBEATS_EXPIRE)
                .execute(Tuple.of(retentionDays))
                .mapEmpty();
    }

    /** Claims and indexes one batch; the result is how many rows were claimed. */
    Future<Integer> drainOnce() {
        String claim = Sql.HEARTBEATS_CLAIM.formatted(HeartbeatDocument.columns());
        return pool.withTransaction(conn -> conn.preparedQuery(claim)
                .execute(Tuple.of(BATCH))
                .compose(rows -> rows.size() == 0
                        ? Future.succeededFuture(0)
                        : index(conn, rows).map(rows.size())));
    }

    private Future<Void> index(SqlConnection conn, RowSet<Row> rows) {
        List<Long> ids = new ArrayList<>();
        List<Integer> attempts = new ArrayList<>();
        List<BulkOperation> operations = new ArrayList<>();
        Outcomes outcomes = new Outcomes();
        for (Row row : rows) {
            long id = row.getLong("id");
            try {
                var doc = HeartbeatDocument.of(row);
                String index = HeartbeatDocument.index(row.getOffsetDateTime("received_at"));
                operations.add(BulkOperation.of(op ->
                        op.index(ix -> ix.index(index).id(Long.toString(id)).document(doc))));
                ids.add(id);
                attempts.add(row.getInteger("attempts"));
            } catch (RuntimeException e) {
                outcomes.park(id, "cannot build the document: " + Failures.describe(e));
            }
        }
        if (operations.isEmpty()) {
            return outcomes.record(conn);
        }
        return Future.fromCompletionStage(
                        client.bulk(
                                new BulkRequest.Builder().operations(operations).build()),
                        context)
                .map(response -> {
                    answer(response, ids, attempts, outcomes);
                    return null;
                })
                .recover(err -> {
                    String reason = Failures.describe(err);
                    for (int i = 0; i < ids.size(); i++) {
                        outcomes.retry(ids.get(i), Backoff.after(attempts.get(i)), reason);
                    }
                    if (!failing) {
                        log.warn("heartbeats will be indexed later [count={}, error={}]", ids.size(), reason);
                    }
                    return Future.succeededFuture();
                })
                .compose(v -> outcomes.record(conn));
    }

    private static void answer(BulkResponse response, List<Long> ids, List<Integer> attempts, Outcomes outcomes) {
        for (int i = 0; i < ids.size(); i++) {
            BulkResponseItem item =
                    i < response.items().size() ? response.items().get(i) : null;
            if (item == null) {
                outcomes.retry(ids.get(i), Backoff.after(attempts.get(i)), "no item in bulk response");
            } else if (item.error() == null) {
                outcomes.done.add(ids.get(i));
            } else {
                String reason = item.status() + " " + item.error().type() + ": "
                        + item.error().reason();
                if (item.status() == 429 || item.status() >= 500) {
                    outcomes.retry(ids.get(i), Backoff.after(attempts.get(i)), reason);
                } else {
                    outcomes.park(ids.get(i), reason);
                }
            }
        }
    }

    /** What becomes of each claimed row, written in the claiming transaction. */
    private static final class Outcomes {
        final List<Long> done = new ArrayList<>();
        final List<Long> later = new ArrayList<>();
        final List<Long> delays = new ArrayList<>();
        final List<String> errors = new ArrayList<>();

        void retry(long id, Duration after, String error) {
            later.add(id);
            delays.add(after.toMillis());
            errors.add(error);
        }

        void park(long id, String error) {
            log.error("heartbeat not indexable, kept in the heartbeats table [id={}, reason={}]", id, error);
            later.add(id);
            delays.add(null);
            errors.add(error);
        }

        Future<Void> record(SqlConnection conn) {
            Future<?> f = Future.succeededFuture();
            if (!done.isEmpty()) {
                f = f.compose(v -> conn.preparedQuery(Sql.HEARTBEATS_DONE)
                        .execute(Tuple.tuple().addArrayOfLong(done.toArray(Long[]::new))));
            }
            if (!later.isEmpty()) {
                f = f.compose(v -> conn.preparedQuery(Sql.HEARTBEATS_RETRY)
                        .execute(Tuple.of(
                                later.toArray(Long[]::new),
                                delays.toArray(Long[]::new),
                                errors.toArray(String[]::new))));
            }
            return f.mapEmpty();
        }
    }
}
