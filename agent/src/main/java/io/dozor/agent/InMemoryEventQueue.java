package io.dozor.agent;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded queue in memory, lost when the agent stops (for tests and as the seam's simplest
 * implementation). When full, the oldest event is dropped for the new one.
 */
public final class InMemoryEventQueue implements EventQueue {

    private static final Logger log = LoggerFactory.getLogger(InMemoryEventQueue.class);
    public static final int DEFAULT_CAPACITY = 100_000;

    private final int capacity;
    private final ArrayDeque<LaunchEvent> events = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private long dropped;

    public InMemoryEventQueue() {
        this(DEFAULT_CAPACITY);
    }

    public InMemoryEventQueue(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        this.capacity = capacity;
    }

    @Override
    public boolean offer(LaunchEvent event) {
        lock.lock();
        try {
            if (events.size() >= capacity) {
                LaunchEvent oldest = events.removeFirst();
                dropped++;
                log.warn("event queue full, dropped the oldest event [event_id={}, capacity={}, dropped={}]",
                        oldest.eventId(), capacity, dropped);
            }
            events.addLast(event);
            notEmpty.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<LaunchEvent> peek(int max) {
        lock.lock();
        try {
            List<LaunchEvent> batch = new ArrayList<>(Math.min(max, events.size()));
            Iterator<LaunchEvent> it = events.iterator();
            while (batch.size() < max && it.hasNext()) {
                batch.add(it.next());
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void acknowledge(List<LaunchEvent> batch) {
        lock.lock();
        try {
            events.removeAll(batch);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long dropped() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int size() {
        lock.lock();
        try {
            return events.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean awaitNonEmpty(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (events.isEmpty()) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
