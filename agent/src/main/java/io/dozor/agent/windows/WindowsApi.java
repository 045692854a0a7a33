package io.dozor.agent.windows;

import java.time.Instant;
import java.util.Map;

/**
 * The few Windows calls the process source needs, so that its logic is tested with a fake anywhere.
 * {@link JnaWindowsApi} is the real one; it is the only class of the agent that calls JNA.
 */
public interface WindowsApi {

    /** {@code EnumProcesses}: the ids of the running processes. */
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
     * @param image     full path of the executable ({@code QueryFullProcessImageName})
     * @param startTime creation time ({@code GetProcessTimes})
     * @param user      {@code DOMAIN\name} of the token user, or null when the token cannot be read
     * @param sessionId {@code ProcessIdToSessionId}, or -1 when unknown
     */
    record ProcessDetails(String image, Instant startTime, String user, int sessionId) {
    }

    /** A failed call with its {@code GetLastError()} code. */
    final class WindowsException extends Exception {
        public static final int ERROR_ACCESS_DENIED = 5;
        public static final int ERROR_INVALID_PARAMETER = 87; // the pid no longer exists

        private final int code;

        public WindowsException(String call, int pid, int code) {
            super(call + " failed [pid=" + pid + ", error=" + code + "]");
            this.code = code;
        }

        public int code() {
            return code;
        }

        public boolean accessDenied() {
            return code == ERROR_ACCESS_DENIED;
        }

        public boolean processGone() {
            return code == ERROR_INVALID_PARAMETER;
        }
    }
}
