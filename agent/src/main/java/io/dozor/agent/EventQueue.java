package io.dozor.agent;

import java.time.Duration;
import java.util.List;

/**
 * Events waiting for the server, oldest first. The poller offers; the shipper peeks a batch, sends it, and
 * acknowledges it only once the server has stored it, so a failed send loses nothing. The in-memory queue
 * is the first implementation; a durable spool on disk takes the same place.
 */
public interface EventQueue extends AutoCloseable {

    /** Appends an event; false when the queue is full and the event was dropped. */
    boolean offer(LaunchEvent event);

    /** Up to {@code max} of the oldest events, without removing them. */
    List<LaunchEvent> peek(int max);

    /** Removes the {@code count} oldest events (a batch returned by {@link #peek} and now handled). */
    void acknowledge(int count);

    int size();

    /** Waits until the queue holds an event or the timeout passes; true if it holds one. */
    boolean awaitNonEmpty(Duration timeout) throws InterruptedException;

    @Override
    default void close() {
    }
}
