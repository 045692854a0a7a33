package io.dozor.agent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded queue in memory, lost when the agent stops (for tests and as the seam's simplest
 * implementation). When full, the oldest event is dropped for the new one.
 */
public final class InMemoryEventQueue extends LockedEventQueue {

    private static final Logger log = LoggerFactory.getLogger(InMemoryEventQueue.class);
    public static final int DEFAULT_CAPACITY = 100_000;

    private final int capacity;
    private final ArrayDeque<LaunchEvent> events = new ArrayDeque<>();
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
                log.warn(
                        "event queue full, dropped the oldest event [event_id={}, capacity={}, dropped={}]",
                        oldest.eventId(),
                        capacity,
                        dropped);
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
    protected int sizeLocked() {
        return events.size();
    }

    @Override
    protected long droppedLocked() {
        return dropped;
    }
}
