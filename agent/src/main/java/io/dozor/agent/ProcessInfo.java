package io.dozor.agent;

import java.time.Instant;
import java.util.Objects;

/**
 * One running process as the OS reports it.
 *
 * @param pid        process id
 * @param startTime  when the process started; with {@code pid} it identifies the process (pids are reused)
 * @param name       executable file name as the OS reports it ({@code chrome.exe} on Windows, {@code chrome} on Linux)
 * @param executable full path of the executable, or null when unknown
 * @param user       owner ({@code ivanov} or {@code DOMAIN\ivanov}), or null when unknown
 * @param parentPid  pid of the parent, or -1 when unknown
 * @param sessionId  Windows session (0 = services), or -1 when unknown or not Windows
 */
public record ProcessInfo(
        long pid, Instant startTime, String name, String executable, String user, long parentPid, int sessionId) {

    public static final int NO_SESSION = -1;

    public ProcessInfo {
        Objects.requireNonNull(startTime, "startTime");
        Objects.requireNonNull(name, "name");
    }

    /** A process without a session (not Windows). */
    public ProcessInfo(long pid, Instant startTime, String name, String executable, String user, long parentPid) {
        this(pid, startTime, name, executable, user, parentPid, NO_SESSION);
    }

    /** Identity of a process across snapshots: a reused pid has another start time. */
    public Key key() {
        return new Key(pid, startTime);
    }

    public record Key(long pid, Instant startTime) {

        /** How far apart two readings of one process's start time may be across agent restarts. */
        static final java.time.Duration SAME_START = java.time.Duration.ofSeconds(1);

        /**
         * Whether both name the same process as read in two agent runs: the same pid, and start times at most
         * {@link #SAME_START} apart (Linux derives them from the boot time, which each run measures anew; a pid
         * is not reused within a second).
         */
        public boolean sameProcess(Key other) {
            return pid == other.pid
                    && java.time.Duration.between(startTime, other.startTime)
                                    .abs()
                                    .compareTo(SAME_START)
                            <= 0;
        }
    }
}
