package io.dozor.agent;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Events waiting for the server, oldest first. The poller offers; the shipper peeks a batch, sends it, and
 * acknowledges it only once the server has stored it, so a failed send loses nothing. {@link SqliteSpool}
 * is the durable implementation the agent runs with; {@link InMemoryEventQueue} serves tests.
 */
public interface EventQueue extends AutoCloseable {

    /**
     * Appends an event; when this returns true the event is stored (on disk for a durable queue). When the
     * queue is full the oldest events make room and are counted in {@link #dropped()}.
     */
    boolean offer(LaunchEvent event);

    /** Up to {@code max} of the oldest events, without removing them. */
    List<LaunchEvent> peek(int max);

    /**
     * Removes the events of a batch returned by {@link #peek} and now handled; those already dropped
     * meanwhile are ignored.
     */
    void acknowledge(List<LaunchEvent> batch);

    int size();

    /** Events dropped because the queue was full, since it was first created. */
    long dropped();

    /**
     * Launches that could not be stored (the spool failed) and were neither kept in memory until it
     * worked again nor delivered: lost. 0 for a queue that cannot fail.
     */
    default long unpersisted() {
        return 0;
    }

    /** Why the durable queue cannot store events now ({@code disk full}, ...), or null while it works. */
    default String error() {
        return null;
    }

    /**
     * Retries storage that failed (reopens the spool, moves what waits in memory into it) when its retry
     * time has come; cheap otherwise. The agent calls it every poll.
     */
    default void recover() {}

    /**
     * Waits until the queue holds an event {@link #peek} can return, or the timeout passes; true if it holds
     * one. (Events of a spool that cannot be read now wait without waking the shipper.)
     */
    boolean awaitNonEmpty(Duration timeout) throws InterruptedException;

    /**
     * The launches (pid and start time, to the millisecond) offered before, as far as this queue remembers
     * them across restarts: with {@code report_existing} the agent does not report them again after a
     * restart. Empty for a queue that does not remember ({@link InMemoryEventQueue}).
     */
    default Set<ProcessInfo.Key> reported() {
        return Set.of();
    }

    /** Forgets the reported launches whose process is not among {@code running} (it has exited). */
    default void forgetReportedExcept(Set<ProcessInfo.Key> running) {}

    @Override
    default void close() {}
}
