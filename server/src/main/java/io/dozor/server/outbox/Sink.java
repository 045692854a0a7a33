package io.dozor.server.outbox;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.util.List;

/** A destination fed from the outbox (Elasticsearch, one Telegram chat, the log). */
public interface Sink {
    /** The outbox's {@code sink} column value; stable across restarts. */
    String name();

    int batchSize();

    /**
     * How many batches may be claimed and delivered at once (each in its own transaction; SKIP LOCKED keeps
     * them apart). 1 where order or shared state matters (a Telegram chat's cooldowns and rate limit).
     */
    default int concurrency() {
        return 1;
    }

    /**
     * Delivers the items and says, for each, whether it is done, to be retried or parked. A failed
     * future (or a throw) means nothing was delivered: if {@link #isTransient} says the destination is
     * out, every item is retried with backoff; otherwise the worker looks for the item that caused it by
     * delivering the batch again in halves (see {@link OutboxWorker}).
     */
    Future<List<Delivery>> deliver(List<OutboxItem> items);

    /**
     * Whether a failed delivery means the destination is out (retry the whole batch later) rather than
     * that something in the batch cannot be delivered. The default knows network errors, timeouts and
     * PostgreSQL's "later" errors ({@link Failures#isTransient}); anything else is treated as caused by
     * an item, so an unforeseen bug in a sink costs the items it fails on, not the whole outbox.
     */
    default boolean isTransient(Throwable error) {
        return Failures.isTransient(error);
    }

    /**
     * Whether rows waiting out a backoff may be retried at once when a delivery succeeds again (the
     * destination is back). False where the wait was imposed by the destination (Telegram's retry_after).
     */
    default boolean retryEarlyOnRecovery() {
        return false;
    }

    /**
     * As {@link #deliver(List)}, given the claiming transaction: a sink that keeps state of its own (a
     * Telegram chat's cooldowns, held items) writes it there, so it commits or rolls back with the outcomes.
     */
    default Future<List<Delivery>> deliver(SqlConnection tx, List<OutboxItem> items) {
        return deliver(items);
    }

    /**
     * Whether {@link #deliver(SqlConnection, List)} may write to the claiming transaction. Then each attempt runs
     * in a savepoint, so a failed attempt's writes are undone and the transaction stays usable; a sink that never
     * touches it says false and saves those two round trips per drain.
     */
    default boolean writesToTransaction() {
        return true;
    }
}
