package io.dozor.agent;

/**
 * A monotonic clock in nanoseconds ({@link System#nanoTime()} in the agent): waits and retry schedules are
 * measured with it, never with the wall clock, so a wall-clock jump (a dead CMOS battery, a time-sync step)
 * neither floods nor stalls them. Tests pass a ticker they move by hand.
 */
@FunctionalInterface
public interface Ticker {

    Ticker SYSTEM = System::nanoTime;

    /** Nanoseconds from an arbitrary origin; only differences mean anything. */
    long nanos();
}
