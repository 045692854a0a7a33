package io.dozor.server.outbox;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.StreamResetException;
import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.DatabaseException;
import java.io.IOException;
import java.util.concurrent.TimeoutException;

/**
 * Tells a destination's outage (the network, a timeout, a closed connection, PostgreSQL refusing for
 * now) from a failure caused by what was being delivered. The outbox retries the first kind with
 * backoff and never dead-letters it; the second kind is isolated item by item (see {@link OutboxWorker}).
 */
public final class Failures {
    /** SQLSTATE classes that say "later": connection, transaction rollback, resources, operator, system. */
    private static final java.util.Set<String> TRANSIENT_SQL_CLASSES = java.util.Set.of("08", "40", "53", "57", "58");

    private Failures() {}

    /** True when the cause chain holds an error of the outage kind. */
    public static boolean isTransient(Throwable error) {
        int depth = 0;
        for (Throwable t = error; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof IOException
                    || t instanceof TimeoutException
                    || t instanceof ReplyException
                    || t instanceof HttpClosedException
                    || t instanceof StreamResetException
                    || t instanceof ConnectionPoolTooBusyException
                    || t instanceof ClosedConnectionException) {
                return true;
            }
            if (t instanceof DatabaseException db
                    && db.getSqlState() != null
                    && db.getSqlState().length() >= 2
                    && TRANSIENT_SQL_CLASSES.contains(db.getSqlState().substring(0, 2))) {
                return true;
            }
        }
        return false;
    }

    /** One line for the outbox's {@code last_error} / {@code dead_letters.reason}: the class and the message. */
    public static String describe(Throwable error) {
        String message = error.getMessage();
        return error.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
    }
}
