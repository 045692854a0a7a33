package io.dozor.agent.windows;

import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link WindowsApi} over the raw {@link Win32} calls: the buffer sizes, retries and handle closing the
 * Win32 documentation asks for, here rather than in the JNA layer so that a fake tests them.
 * <ul>
 *   <li>{@code EnumProcesses} says nothing when the array is too small: bytes returned equal to the buffer
 *       size may mean truncated, so the array grows (doubling, up to {@link #MAX_PIDS}) and the call is repeated.
 *   <li>{@code QueryFullProcessImageName}: first {@link #MAX_PATH} characters, then the longest Win32 path
 *       ({@link #LONG_PATH} characters with the NUL) on {@code ERROR_INSUFFICIENT_BUFFER}.
 *   <li>{@code GetTokenInformation(TokenUser)} and {@code LookupAccountSid}: a sizing call, then the size it
 *       asked for ({@code LookupAccountSid} grows its buffers a few times at most).
 *   <li>Every handle opened is closed on every path (finally), also when a later call fails.
 *   <li>Only {@code PROCESS_QUERY_LIMITED_INFORMATION} is asked for: it is granted for protected processes
 *       and, to LocalSystem, for the processes of every session; it is enough for the image, the times and the
 *       token. The session comes from the token ({@code TokenSessionId}, needs only {@code TOKEN_QUERY}), as
 *       {@code ProcessIdToSessionId} needs {@code PROCESS_QUERY_INFORMATION}, which protected processes deny.
 *   <li>WOW64: {@code QueryFullProcessImageName} (unlike {@code GetModuleFileNameEx}) reads 32- and 64-bit
 *       processes alike, with the real (not redirected) path.
 * </ul>
 */
final class Win32WindowsApi implements WindowsApi {

    private static final Logger log = LoggerFactory.getLogger(Win32WindowsApi.class);

    static final int FIRST_PIDS = 1024;
    /** More processes than Windows can run (about 2^24 handles): the bound of the pid array. */
    static final int MAX_PIDS = 1 << 20;

    static final int MAX_PATH = 260;
    /** The longest Win32 path: 32,767 characters and the NUL. */
    static final int LONG_PATH = 32_768;

    static final int FIRST_SID_BYTES = 64;
    static final int FIRST_NAME_CHARS = 64;
    /** How often a sizing loop asks again when the size it was told does not fit any more. */
    static final int SIZING_TRIES = 4;

    private final Win32 win32;
    private int[] pids = new int[FIRST_PIDS];

    Win32WindowsApi(Win32 win32) {
        this.win32 = win32;
    }

    @Override
    public synchronized int[] processIds() {
        while (true) {
            int bytes;
            try {
                bytes = win32.enumProcesses(pids);
            } catch (WindowsException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            int count = bytes / Integer.BYTES;
            if (count < pids.length) {
                return Arrays.copyOf(pids, count);
            }
            if (pids.length >= MAX_PIDS) {
                throw new IllegalStateException("EnumProcesses: more than " + MAX_PIDS + " processes");
            }
            pids = new int[pids.length * 2]; // full: there may be more
        }
    }

    @Override
    public Map<Integer, Integer> parentIds() {
        try {
            return win32.parentIds();
        } catch (WindowsException e) {
            log.debug("process snapshot failed [error={}]", e.code());
            return Map.of();
        }
    }

    @Override
    public ProcessDetails query(int pid) throws WindowsException {
        long process = win32.openProcess(pid);
        try {
            String image = image(process);
            long created = win32.creationTime(process);
            String user = null;
            int session = -1;
            long token = 0;
            try {
                token = win32.openProcessToken(process);
                session = win32.tokenSessionId(token);
                user = account(win32.tokenUserSid(token, sidBytes(token)));
            } catch (WindowsException e) {
                log.debug("token not read [pid={}, error={}]", pid, e.code());
            } finally {
                if (token != 0) {
                    win32.closeHandle(token);
                }
            }
            if (session < 0) {
                session = sessionOf(pid);
            }
            return new ProcessDetails(image, WindowsProcessSource.fileTimeToInstant(created), user, session);
        } finally {
            win32.closeHandle(process);
        }
    }

    @Override
    public Instant startTime(int pid) throws WindowsException {
        long process = win32.openProcess(pid);
        try {
            return WindowsProcessSource.fileTimeToInstant(win32.creationTime(process));
        } finally {
            win32.closeHandle(process);
        }
    }

    private String image(long process) throws WindowsException {
        char[] buffer = new char[MAX_PATH];
        while (true) {
            try {
                int length = win32.queryFullProcessImageName(process, buffer);
                return new String(buffer, 0, length);
            } catch (WindowsException e) {
                if (e.code() != Win32.ERROR_INSUFFICIENT_BUFFER || buffer.length >= LONG_PATH) {
                    throw e;
                }
                buffer = new char[LONG_PATH];
            }
        }
    }

    /** The size of the token's TokenUser (the sizing call), or a first guess when it does not say. */
    private int sidBytes(long token) throws WindowsException {
        try {
            win32.tokenUserSid(token, 0);
            return FIRST_SID_BYTES; // cannot succeed with no buffer; ask with a guess then
        } catch (WindowsException e) {
            if (e.code() != Win32.ERROR_INSUFFICIENT_BUFFER) {
                throw e;
            }
            return e.needed() > 0 ? e.needed() : FIRST_SID_BYTES;
        }
    }

    /** {@code DOMAIN\name} of a SID; just {@code name} when the domain is empty. */
    private String account(byte[] sid) throws WindowsException {
        int chars = FIRST_NAME_CHARS;
        for (int i = 0; ; i++) {
            try {
                String[] account = win32.lookupAccountSid(sid, chars, chars);
                String name = account[0];
                String domain = account[1];
                return domain == null || domain.isEmpty() ? name : domain + "\\" + name;
            } catch (WindowsException e) {
                if (e.code() != Win32.ERROR_INSUFFICIENT_BUFFER || i + 1 >= SIZING_TRIES) {
                    throw e;
                }
                chars = Math.max(e.needed(), chars * 2);
            }
        }
    }

    private int sessionOf(int pid) {
        try {
            return win32.processIdToSessionId(pid);
        } catch (WindowsException e) {
            return -1;
        }
    }
}
