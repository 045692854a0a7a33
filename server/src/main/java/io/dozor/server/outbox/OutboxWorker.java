package io.dozor.server.outbox;

import io.dozor.server.bus.Addresses;
import io.dozor.server.ops.Meters;
import io.dozor.server.store.EventRows;
import io.dozor.server.store.Sql;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains one sink's outbox: claims due rows with {@code FOR UPDATE SKIP LOCKED} (so several server
 * instances share the work without doubling it), delivers them, and records each outcome in the same
 * transaction. Woken by {@link Addresses#OUTBOX_WAKE} after new commits and by a timer for retries and
 * for work left by a crash. Runs on the deploying verticle's event loop, with at most
 * {@link Sink#concurrency()} drains in flight (SKIP LOCKED gives each its own rows).
 */
public final class OutboxWorker {
    private static final Logger log = LoggerFactory.getLogger(OutboxWorker.class);

    /**
     * A single item the sink fails on while nothing else of its drain got an answer is dead-lettered
     * only once it has failed this many times before (a few minutes of backoff): alone, a sink's error
     * cannot be told from an outage the sink did not recognise.
     */
    static final int PARK_ALONE_AFTER = 8;

    private final Vertx vertx;
    private final Pool pool;
    private final Sink sink;
    private final Duration pollInterval;
    /** Drains in flight, at most {@code sink.concurrency()}. */
    private int draining;

    private boolean wokenWhileDraining;
    private boolean failing;
    /** Rows may be waiting out a backoff (true at start: a crash may have left some). */
    private boolean deferred = true;
    /** This process saw a delivery deferred: only then is a success a recovery worth a line in the log. */
    private boolean deferredHere;

    public OutboxWorker(Vertx vertx, Pool pool, Sink sink, Duration pollInterval) {
        this.vertx = vertx;
        this.pool = pool;
        this.sink = sink;
        this.pollInterval = pollInterval;
    }

    /** Call from the owning verticle's start. */
    public Future<Void> start() {
        vertx.setPeriodic(pollInterval.toMillis(), id -> wake());
        return vertx.eventBus()
                .consumer(Addresses.OUTBOX_WAKE, message -> wake())
                .completion()
                .onSuccess(ignored -> wake());
    }

    private void wake() {
        if (draining >= sink.concurrency()) {
            wokenWhileDraining = true;
            return;
        }
        draining++;
        wokenWhileDraining = false;
        drainOnce().onComplete(ar -> {
            draining--;
            if (ar.failed()) {
                if (!failing) {
                    log.warn(
                            "outbox drain failed [sink={}, error={}]",
                            sink.name(),
                            ar.cause().getMessage());
                }
                failing = true;
                return;
            }
            if (failing) {
                log.info("outbox drain recovered [sink={}]", sink.name());
                failing = false;
            }
            if (ar.result() == sink.batchSize()) {
                // a full batch: there is probably more, so use every slot
                for (int free = sink.concurrency() - draining; free > 0; free--) {
                    wake();
                }
            } else if (wokenWhileDraining) {
                wake();
            }
        });
    }

    /** Claims and delivers one batch; the result is how many rows were claimed. */
    Future<Integer> drainOnce() {
        // the planner settings and the claim go out together (pipelined on the connection): one round trip
        return pool.withTransaction(conn -> Future.all(
                        conn.query(Sql.OUTBOX_CLAIM_PLAN).execute(),
                        conn.preparedQuery(Sql.OUTBOX_CLAIM).execute(Tuple.of(sink.name(), sink.batchSize())))
                .map(both -> both.<RowSet<Row>>resultAt(1))
                .compose(rows -> {
                    List<OutboxItem> items = new ArrayList<>(rows.size());
                    List<Delivery> unreadable = new ArrayList<>();
                    rows.forEach(row -> read(row, items, unreadable));
                    if (rows.size() == 0) {
                        return Future.succeededFuture(0);
                    }
                    return new Isolation(conn)
                            .run(items)
                            .compose(deliveries -> {
                                deliveries.addAll(unreadable);
                                return record(conn, deliveries);
                            })
                            .map(rows.size());
                }));
    }

    /** A row that cannot even be read as an event is a poison item too: dead-lettered with the reason. */
    private void read(Row row, List<OutboxItem> items, List<Delivery> unreadable) {
        try {
            items.add(item(row));
        } catch (RuntimeException e) {
            unreadable.add(Delivery.park(
                    row.getLong("event_pk"),
                    Delivery.Reason.UNREADABLE,
                    "unreadable event row: " + Failures.describe(e)));
        }
    }

    /**
     * Delivers one claimed batch so that an item the sink cannot take costs only itself. The batch goes
     * to the sink whole, inside a savepoint if the sink writes to the transaction (what a failed attempt
     * wrote to PostgreSQL is undone, and the claiming transaction stays usable). If the sink fails (a failed future or a throw):
     * <ul>
     *   <li>an outage ({@link Sink#isTransient}): every item of that attempt is retried with backoff;
     *   <li>otherwise the attempt is split in halves, each delivered on its own, down to single items
     *       (bisection: k bad items among n cost about 2·k·log2(n) extra attempts, and every good item
     *       goes through in this same drain).
     * </ul>
     * A single item that still fails is dead-lettered with the sink's error when the sink answered for
     * some other item of this drain (so the failure is the item's, not the destination's), or when it has
     * already failed {@link #PARK_ALONE_AFTER} times; otherwise it is retried with backoff.
     */
    private final class Isolation {
        private final SqlConnection conn;
        private final List<Delivery> outcomes = new ArrayList<>();
        private final List<OutboxItem> failedAlone = new ArrayList<>();
        private final List<String> failedAloneErrors = new ArrayList<>();
        private boolean answered;
        /** Bisecting is logged once per drain, not once per half. */
        private boolean bisecting;

        Isolation(SqlConnection conn) {
            this.conn = conn;
        }

        Future<List<Delivery>> run(List<OutboxItem> items) {
            if (items.isEmpty()) {
                return Future.succeededFuture(outcomes);
            }
            return attempt(items).map(v -> {
                for (int i = 0; i < failedAlone.size(); i++) {
                    OutboxItem item = failedAlone.get(i);
                    String error = failedAloneErrors.get(i);
                    if (answered || item.attempts() >= PARK_ALONE_AFTER) {
                        // logged with the other parked rows by record()
                        outcomes.add(Delivery.park(
                                item.event().id(),
                                Delivery.Reason.SINK_ERROR,
                                "the sink failed on this item: " + error));
                    } else {
                        outcomes.add(Delivery.retry(item.event().id(), Backoff.after(item.attempts()), error));
                    }
                }
                return outcomes;
            });
        }

        private Future<Void> attempt(List<OutboxItem> part) {
            return savepoint(Sql.OUTBOX_ATTEMPT_BEGIN)
                    // compose: a sink that throws instead of failing its future is caught the same way
                    .compose(v -> sink.deliver(conn, part))
                    .transform(ar -> ar.succeeded()
                            ? savepoint(Sql.OUTBOX_ATTEMPT_KEEP).map(v -> {
                                answered = true;
                                outcomes.addAll(complete(part, ar.result()));
                                return null;
                            })
                            : savepoint(Sql.OUTBOX_ATTEMPT_UNDO).compose(v -> failed(part, ar.cause())));
        }

        /** Only a sink that writes to the claiming transaction needs its attempts in a savepoint. */
        private Future<?> savepoint(String sql) {
            return sink.writesToTransaction() ? conn.query(sql).execute() : Future.succeededFuture();
        }

        private Future<Void> failed(List<OutboxItem> part, Throwable error) {
            String reason = Failures.describe(error);
            if (sink.isTransient(error)) {
                for (OutboxItem item : part) {
                    outcomes.add(Delivery.retry(item.event().id(), Backoff.after(item.attempts()), reason));
                }
                return Future.succeededFuture();
            }
            if (part.size() == 1) {
                failedAlone.add(part.get(0));
                failedAloneErrors.add(reason);
                return Future.succeededFuture();
            }
            if (!bisecting) {
                log.warn(
                        "sink failed on a batch, delivering it in halves to find the item at fault [sink={}, size={}, "
                                + "error={}]",
                        sink.name(),
                        part.size(),
                        reason);
                bisecting = true;
            }
            int half = part.size() / 2;
            return attempt(part.subList(0, half)).compose(v -> attempt(part.subList(half, part.size())));
        }
    }

    /** A claimed row the sink said nothing about would otherwise sit in the outbox unnoticed: retry it. */
    private List<Delivery> complete(List<OutboxItem> items, List<Delivery> deliveries) {
        if (deliveries.size() >= items.size()) {
            return deliveries;
        }
        java.util.Set<Long> answered = new java.util.HashSet<>();
        deliveries.forEach(d -> answered.add(d.eventPk()));
        List<Delivery> all = new ArrayList<>(deliveries);
        for (OutboxItem item : items) {
            if (!answered.contains(item.event().id())) {
                log.error(
                        "sink gave no outcome for a claimed row, retrying it [sink={}, event_pk={}]",
                        sink.name(),
                        item.event().id());
                all.add(Delivery.retry(item.event().id(), Backoff.after(item.attempts()), "no outcome from the sink"));
            }
        }
        return all;
    }

    private Future<Void> record(SqlConnection conn, List<Delivery> deliveries) {
        List<Long> done = new ArrayList<>();
        List<Delivery> retries = new ArrayList<>();
        List<Delivery> parked = new ArrayList<>();
        for (Delivery d : deliveries) {
            switch (d.outcome()) {
                case DONE -> done.add(d.eventPk());
                case RETRY -> retries.add(d);
                case PARK -> parked.add(d);
            }
        }
        if (!parked.isEmpty()) {
            log.error(
                    "parked undeliverable events [sink={}, count={}, first_event_pk={}, reason={}]",
                    sink.name(),
                    parked.size(),
                    parked.get(0).eventPk(),
                    parked.get(0).error());
        }
        if (!retries.isEmpty() && !failing) {
            log.warn(
                    "delivery will be retried [sink={}, count={}, first_error={}]",
                    sink.name(),
                    retries.size(),
                    retries.get(0).error());
        }
        boolean recovered = deferred && !done.isEmpty() && sink.retryEarlyOnRecovery();
        deferred = (deferred && !recovered) || !retries.isEmpty();
        boolean recoveredHere = recovered && deferredHere;
        deferredHere = (deferredHere && !recovered) || !retries.isEmpty();
        Meters.delivered(sink.name(), "done", done.size());
        long held = retries.stream().filter(Delivery::held).count();
        Meters.delivered(sink.name(), "retry", retries.size() - (int) held);
        Meters.delivered(sink.name(), "held", (int) held);
        Meters.delivered(sink.name(), "dead", parked.size());
        parked.stream()
                .collect(java.util.stream.Collectors.groupingBy(
                        Delivery::reason, java.util.stream.Collectors.counting()))
                .forEach((reason, count) -> Meters.deadLettered(sink.name(), reason.label(), count.intValue()));
        Future<?> f = Future.succeededFuture();
        if (!done.isEmpty()) {
            f = f.compose(x -> conn.preparedQuery(Sql.OUTBOX_DONE)
                    .execute(Tuple.tuple().addString(sink.name()).addArrayOfLong(done.toArray(Long[]::new))));
        }
        if (!retries.isEmpty()) {
            f = f.compose(x -> conn.preparedQuery(Sql.OUTBOX_RETRY)
                    .execute(Tuple.of(
                            sink.name(),
                            retries.stream().map(Delivery::eventPk).toArray(Long[]::new),
                            retries.stream().map(d -> d.retryAfter().toMillis()).toArray(Long[]::new),
                            retries.stream().map(Delivery::error).toArray(String[]::new))));
        }
        if (!parked.isEmpty()) {
            f = f.compose(x -> conn.preparedQuery(Sql.OUTBOX_PARK)
                    .execute(Tuple.of(
                            sink.name(),
                            parked.stream().map(Delivery::eventPk).toArray(Long[]::new),
                            parked.stream().map(Delivery::error).toArray(String[]::new))));
        }
        if (recovered) {
            if (recoveredHere) {
                log.info("destination recovered, retrying deferred deliveries now [sink={}]", sink.name());
            } else {
                log.debug("retrying deliveries an earlier process deferred [sink={}]", sink.name());
            }
            wokenWhileDraining = true;
            f = f.compose(x -> conn.preparedQuery(Sql.OUTBOX_RETRY_NOW).execute(Tuple.of(sink.name())));
        }
        return f.mapEmpty();
    }

    private static OutboxItem item(Row row) {
        return new OutboxItem(EventRows.stored(row, "event_pk"), row.getInteger("attempts"));
    }
}
