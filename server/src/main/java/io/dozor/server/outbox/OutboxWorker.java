package io.dozor.server.outbox;

import io.dozor.server.bus.Addresses;
import io.dozor.server.ops.Meters;
import io.dozor.server.store.EventRows;
import io.dozor.server.store.Sql;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
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

  public OutboxWorker(Vertx vertx, Pool pool, Sink sink, Duration pollInterval) {
    this.vertx = vertx;
    this.pool = pool;
    this.sink = sink;
    this.pollInterval = pollInterval;
  }

  /** Call from the owning verticle's start. */
  public Future<Void> start() {
    vertx.setPeriodic(pollInterval.toMillis(), id -> wake());
    return vertx.eventBus().consumer(Addresses.OUTBOX_WAKE, message -> wake()).completion()
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
          log.warn("outbox drain failed [sink={}, error={}]", sink.name(), ar.cause().getMessage());
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
    return pool.withTransaction(conn -> conn.query(Sql.OUTBOX_CLAIM_PLAN).execute()
        .compose(planned -> conn.preparedQuery(Sql.OUTBOX_CLAIM).execute(Tuple.of(sink.name(), sink.batchSize())))
        .map(rows -> {
          List<OutboxItem> items = new ArrayList<>(rows.size());
          rows.forEach(row -> items.add(item(row)));
          return items;
        })
        .compose(items -> items.isEmpty()
            ? Future.succeededFuture(0)
            : deliver(conn, items).compose(deliveries -> record(conn, deliveries)).map(items.size())));
  }

  private Future<List<Delivery>> deliver(SqlConnection conn, List<OutboxItem> items) {
    // a sink that throws instead of failing its future must not abort the transaction unrecorded
    return Future.<Void>succeededFuture().compose(v -> sink.deliver(conn, items)).recover(err -> {
      List<Delivery> retries = new ArrayList<>(items.size());
      for (OutboxItem item : items) {
        retries.add(Delivery.retry(item.event().id(), Backoff.after(item.attempts()), String.valueOf(err.getMessage())));
      }
      return Future.succeededFuture(retries);
    }).map(deliveries -> complete(items, deliveries));
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
        log.error("sink gave no outcome for a claimed row, retrying it [sink={}, event_pk={}]", sink.name(),
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
      log.error("parked undeliverable events [sink={}, count={}, first_event_pk={}, reason={}]", sink.name(),
          parked.size(), parked.get(0).eventPk(), parked.get(0).error());
    }
    if (!retries.isEmpty() && !failing) {
      log.warn("delivery will be retried [sink={}, count={}, first_error={}]", sink.name(), retries.size(),
          retries.get(0).error());
    }
    boolean recovered = deferred && !done.isEmpty() && sink.retryEarlyOnRecovery();
    deferred = (deferred && !recovered) || !retries.isEmpty();
    Meters.delivered(sink.name(), "done", done.size());
    Meters.delivered(sink.name(), "retry", retries.size());
    Meters.delivered(sink.name(), "dead", parked.size());
    Future<?> f = Future.succeededFuture();
    if (!done.isEmpty()) {
      f = f.compose(x -> conn.preparedQuery(Sql.OUTBOX_DONE)
          .execute(Tuple.tuple().addString(sink.name()).addArrayOfLong(done.toArray(Long[]::new))));
    }
    if (!retries.isEmpty()) {
      f = f.compose(x -> conn.preparedQuery(Sql.OUTBOX_RETRY).execute(Tuple.of(sink.name(),
          retries.stream().map(Delivery::eventPk).toArray(Long[]::new),
          retries.stream().map(d -> d.retryAfter().toMillis()).toArray(Long[]::new),
          retries.stream().map(Delivery::error).toArray(String[]::new))));
    }
    if (!parked.isEmpty()) {
      f = f.compose(x -> conn.preparedQuery(Sql.OUTBOX_PARK).execute(Tuple.of(sink.name(),
          parked.stream().map(Delivery::eventPk).toArray(Long[]::new),
          parked.stream().map(Delivery::error).toArray(String[]::new))));
    }
    if (recovered) {
      log.info("destination recovered, retrying deferred deliveries now [sink={}]", sink.name());
      wokenWhileDraining = true;
      f = f.compose(x -> conn.preparedQuery(Sql.OUTBOX_RETRY_NOW).execute(Tuple.of(sink.name())));
    }
    return f.mapEmpty();
  }

  private static OutboxItem item(Row row) {
    return new OutboxItem(EventRows.stored(row, "event_pk"), row.getInteger("attempts"));
  }
}
