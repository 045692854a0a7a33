package io.dozor.agent;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/** What the queues share: one lock, a condition for "not empty", and the counters read under the lock. */
abstract class LockedEventQueue implements EventQueue {

    protected final ReentrantLock lock = new ReentrantLock();
    protected final Condition notEmpty = lock.newCondition();

    /** The number of events; called with the lock held. */
    protected abstract int sizeLocked();

    /** The number of events {@link #peek} can return now; called with the lock held. */
    protected int availableLocked() {
        return sizeLocked();
    }

    /** The number of dropped events; called with the lock held. */
    protected abstract long droppedLocked();

    protected final <T> T locked(Supplier<T> action) {
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int size() {
        return locked(this::sizeLocked);
    }

    @Override
    public long dropped() {
        return locked(this::droppedLocked);
    }

    @Override
    public boolean awaitNonEmpty(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (availableLocked() == 0) {
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
