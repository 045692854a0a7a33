package io.dozor.agent.windows;

import io.dozor.agent.windows.WindowsApi.WindowsException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The raw calls as the Win32 documentation describes them (buffer sizes, sizing calls, error codes), over a
 * table of processes; it records the buffer sizes asked with and the handles still open.
 */
final class FakeWin32 implements Win32 {

    /** One process: {@code openError}/{@code tokenError}/{@code lookupError} make that call fail. */
    static final class Proc {
        String image = "C:\\Windows\\notepad.exe";
        long created = 134_000_000_000_000_000L;
        byte[] sid = {1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0};
        String name = "ivanov";
        String domain = "CORP";
        int session = 1;
        int openError;
        int timesError;
        int tokenError;
        int lookupError;
        int sessionIdError;
    }

    final Map<Integer, Proc> processes = new HashMap<>();
    int pidCount;
    int enumError;
    final List<Integer> enumBufferSizes = new ArrayList<>();
    final List<Integer> imageBufferSizes = new ArrayList<>();
    final List<Integer> tokenBufferSizes = new ArrayList<>();
    final List<Integer> lookupBufferSizes = new ArrayList<>();
    final Set<Long> open = new HashSet<>();
    private final Map<Long, Proc> handles = new HashMap<>();
    private long nextHandle = 0x100;

    Proc add(int pid) {
        Proc p = new Proc();
        processes.put(pid, p);
        return p;
    }

    @Override
    public int enumProcesses(int[] pids) throws WindowsException {
        enumBufferSizes.add(pids.length);
        if (enumError != 0) {
            throw new WindowsException("EnumProcesses", 0, enumError);
        }
        int n = Math.min(pids.length, pidCount); // as documented: no sign of a truncated list
        for (int i = 0; i < n; i++) {
            pids[i] = (i + 1) * 4;
        }
        return n * Integer.BYTES;
    }

    @Override
    public Map<Integer, Integer> parentIds() {
        return Map.of();
    }

    @Override
    public long openProcess(int pid) throws WindowsException {
        Proc p = processes.get(pid);
        if (p == null) {
            throw new WindowsException("OpenProcess", pid, WindowsException.ERROR_INVALID_PARAMETER);
        }
        if (p.openError != 0) {
            throw new WindowsException("OpenProcess", pid, p.openError);
        }
        return handle(p);
    }

    @Override
    public int queryFullProcessImageName(long process, char[] buffer) throws WindowsException {
        Proc p = proc(process);
        imageBufferSizes.add(buffer.length);
        if (p.image.length() + 1 > buffer.length) {
            throw new WindowsException("QueryFullProcessImageName", 0, ERROR_INSUFFICIENT_BUFFER);
        }
        p.image.getChars(0, p.image.length(), buffer, 0);
        buffer[p.image.length()] = 0;
        return p.image.length();
    }

    @Override
    public long creationTime(long process) throws WindowsException {
        Proc p = proc(process);
        if (p.timesError != 0) {
            throw new WindowsException("GetProcessTimes", 0, p.timesError);
        }
        return p.created;
    }

    @Override
    public long openProcessToken(long process) throws WindowsException {
        Proc p = proc(process);
        if (p.tokenError != 0) {
            throw new WindowsException("OpenProcessToken", 0, p.tokenError);
        }
        return handle(p);
    }

    @Override
    public byte[] tokenUserSid(long token, int bufferBytes) throws WindowsException {
        Proc p = proc(token);
        tokenBufferSizes.add(bufferBytes);
        int needed = 16 + p.sid.length; // TOKEN_USER (pointer + attributes) followed by the SID
        if (bufferBytes < needed) {
            throw new WindowsException("GetTokenInformation(TokenUser)", 0, ERROR_INSUFFICIENT_BUFFER, needed);
        }
        return p.sid.clone();
    }

    @Override
    public int tokenSessionId(long token) throws WindowsException {
        return proc(token).session;
    }

    @Override
    public String[] lookupAccountSid(byte[] sid, int nameChars, int domainChars) throws WindowsException {
        lookupBufferSizes.add(nameChars);
        Proc p = processes.values().stream()
                .filter(x -> java.util.Arrays.equals(x.sid, sid))
                .findFirst()
                .orElseThrow();
        if (p.lookupError != 0) {
            throw new WindowsException("LookupAccountSid", 0, p.lookupError);
        }
        if (p.name.length() + 1 > nameChars || p.domain.length() + 1 > domainChars) {
            throw new WindowsException(
                    "LookupAccountSid", 0, ERROR_INSUFFICIENT_BUFFER, Math.max(p.name.length(), p.domain.length()) + 1);
        }
        return new String[] {p.name, p.domain};
    }

    @Override
    public int processIdToSessionId(int pid) throws WindowsException {
        Proc p = processes.get(pid);
        if (p == null || p.sessionIdError != 0) {
            throw new WindowsException("ProcessIdToSessionId", pid, p == null ? 87 : p.sessionIdError);
        }
        return p.session;
    }

    @Override
    public void closeHandle(long handle) {
        if (!open.remove(handle)) {
            throw new AssertionError("closed twice or never opened: " + handle);
        }
        handles.remove(handle);
    }

    private long handle(Proc p) {
        long h = nextHandle;
        nextHandle += 4;
        open.add(h);
        handles.put(h, p);
        return h;
    }

    private Proc proc(long handle) {
        Proc p = handles.get(handle);
        if (p == null) {
            throw new AssertionError("a call on a handle that is not open: " + handle);
        }
        return p;
    }
}
