package io.dozor.agent.windows;

import java.time.Instant;
import java.util.Map;

/**
 * The few Windows calls the process source needs, so that its logic is tested with a fake anywhere.
 * {@link Win32WindowsApi} over {@link JnaWin32} is the real one; {@link JnaWin32} is the only class of the
 * process source that calls JNA.
 */
public interface WindowsApi {

    /**
     * {@code EnumProcesses}: the ids of the running processes.
     *
     * @throws IllegalStateException when the call fails
     */
    int[] processIds();

    /** A Toolhelp snapshot: pid to parent pid of every process (empty when it cannot be taken). */
    Map<Integer, Integer> parentIds();

    /**
     * Opens {@code pid} with {@code PROCESS_QUERY_LIMITED_INFORMATION}, reads its image, start time, token
     * user and session, and closes every handle before returning.
     *
     * @throws WindowsException when the process cannot be opened or read (access denied, gone)
     */
    ProcessDetails query(int pid) throws WindowsException;

    /**
     * Only the start time of {@code pid} ({@code OpenProcess}, {@code GetProcessTimes}, {@code CloseHandle}):
     * what the per-poll re-check of watched processes needs, without the token and account lookups of
     * {@link #query} ({@code LookupAccountSid} may ask a domain controller).
     *
     * @throws WindowsException when the process cannot be opened or read
     */
    Instant startTime(int pid) throws WindowsException;

    /**
     * @param image     full path of the executable ({@code QueryFullProcessImageName})
     * @param startTime creation time ({@code GetProcessTimes})
     * @param user      {@code DOMAIN\name} of the token user (the domain is kept: {@code CORP\ivanov},
     *                  {@code PC-01\ivanov}, {@code NT AUTHORITY\SYSTEM}), or null when it cannot be read
     * @param sessionId {@code ProcessIdToSessionId}, or -1 when unknown
     */
    record ProcessDetails(String image, Instant startTime, String user, int sessionId) {}

    /** A failed call with its last-error code (read by {@code Native.getLastError()} right after the call). */
    final class WindowsException extends Exception {
        public static final int ERROR_ACCESS_DENIED = 5;
        public static final int ERROR_INVALID_PARAMETER = 87; // the pid no longer exists

        private final int code;
        private final int needed;

        public WindowsException(String call, int pid, int code) {
            this(call, pid, code, 0);
        }

        /** @param needed the buffer size the call asked for ({@code ERROR_INSUFFICIENT_BUFFER}), else 0 */
        public WindowsException(String call, int pid, int code, int needed) {
            super(call + " failed [pid=" + pid + ", error=" + code + "]");
            this.code = code;
            this.needed = needed;
        }

        public int code() {
            return code;
        }

        /** The buffer size the call asked for, or 0 when it did not say. */
        public int needed() {
            return needed;
        }

        public boolean accessDenied() {
            return code == ERROR_ACCESS_DENIED;
        }

        public boolean processGone() {
            return code == ERROR_INVALID_PARAMETER;
        }
    }
}
