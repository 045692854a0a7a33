package io.dozor.agent.windows;

import io.dozor.agent.windows.WindowsApi.WindowsException;
import java.util.Map;

/**
 * The raw Win32 calls, one method per call and nothing else, so that everything around them (buffer sizes,
 * retries, handle closing, error decisions) lives in {@link Win32WindowsApi} and is tested with a fake.
 * Handles are their numeric values ({@code 0} is none). A failed call throws {@link WindowsException} with
 * the error code read by {@code Native.getLastError()} right after the call ({@code Kernel32.GetLastError()}
 * called later from Java may see a code the JVM set meanwhile). {@link JnaWin32} is the real one.
 */
interface Win32 {

    int ERROR_INSUFFICIENT_BUFFER = 122;
    int ERROR_NONE_MAPPED = 1332;

    /** {@code EnumProcesses} into {@code pids}: the number of bytes it wrote (never more than the buffer). */
    int enumProcesses(int[] pids) throws WindowsException;

    /** A Toolhelp snapshot ({@code CreateToolhelp32Snapshot}, {@code Process32First/Next}): pid to parent pid. */
    Map<Integer, Integer> parentIds() throws WindowsException;

    /** {@code OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid)}: the handle. */
    long openProcess(int pid) throws WindowsException;

    /**
     * {@code QueryFullProcessImageNameW(process, 0, buffer, size)}: the number of characters written (without
     * the terminating NUL); {@code ERROR_INSUFFICIENT_BUFFER} when the buffer is too small.
     */
    int queryFullProcessImageName(long process, char[] buffer) throws WindowsException;

    /** {@code GetProcessTimes}: the creation time as a FILETIME (100 ns ticks since 1601). */
    long creationTime(long process) throws WindowsException;

    /** {@code OpenProcessToken(process, TOKEN_QUERY)}: the token handle. */
    long openProcessToken(long process) throws WindowsException;

    /**
     * {@code GetTokenInformation(token, TokenUser, buffer of bufferBytes)}: the user's SID as bytes;
     * {@code ERROR_INSUFFICIENT_BUFFER} with {@link WindowsException#needed()} bytes when too small (also
     * for {@code bufferBytes} 0, the sizing call).
     */
    byte[] tokenUserSid(long token, int bufferBytes) throws WindowsException;

    /** {@code GetTokenInformation(token, TokenSessionId)}: the session of the token. */
    int tokenSessionId(long token) throws WindowsException;

    /**
     * {@code LookupAccountSidW(null, sid, name of nameChars, domain of domainChars)}: {@code {name, domain}};
     * {@code ERROR_INSUFFICIENT_BUFFER} with {@link WindowsException#needed()} the larger of the two sizes it
     * asks for (characters, with the NUL); {@code ERROR_NONE_MAPPED} for a SID without an account.
     */
    String[] lookupAccountSid(byte[] sid, int nameChars, int domainChars) throws WindowsException;

    /** {@code ProcessIdToSessionId} (needs {@code PROCESS_QUERY_INFORMATION}, which protected processes deny). */
    int processIdToSessionId(int pid) throws WindowsException;

    /** {@code CloseHandle}. */
    void closeHandle(long handle);
}
