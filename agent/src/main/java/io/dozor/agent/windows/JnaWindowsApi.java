package io.dozor.agent.windows;

import com.sun.jna.platform.win32.Advapi32;
import com.sun.jna.platform.win32.Advapi32Util;
import com.sun.jna.platform.win32.Kernel32;
import com.sun.jna.platform.win32.Psapi;
import com.sun.jna.platform.win32.Tlhelp32;
import com.sun.jna.platform.win32.Win32Exception;
import com.sun.jna.platform.win32.WinBase;
import com.sun.jna.platform.win32.WinDef;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.ptr.IntByReference;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link WindowsApi} through jna-platform (kernel32, psapi, advapi32). Every handle is closed in finally. */
final class JnaWindowsApi implements WindowsApi {

    private static final Logger log = LoggerFactory.getLogger(JnaWindowsApi.class);
    private static final int MAX_PATH = 32_768;

    private int[] pidBuffer = new int[1024];

    @Override
    public synchronized int[] processIds() {
        while (true) {
            IntByReference returned = new IntByReference();
            if (!Psapi.INSTANCE.EnumProcesses(pidBuffer, pidBuffer.length * Integer.BYTES, returned)) {
                throw new IllegalStateException("EnumProcesses failed [error=" + Kernel32.INSTANCE.GetLastError() + "]");
            }
            int count = returned.getValue() / Integer.BYTES;
            if (count < pidBuffer.length) {
                return Arrays.copyOf(pidBuffer, count);
            }
            pidBuffer = new int[pidBuffer.length * 2]; // full: there may be more
        }
    }

    @Override
    public Map<Integer, Integer> parentIds() {
        WinNT.HANDLE snapshot = Kernel32.INSTANCE.CreateToolhelp32Snapshot(Tlhelp32.TH32CS_SNAPPROCESS,
                new WinDef.DWORD(0));
        if (snapshot == null || WinBase.INVALID_HANDLE_VALUE.equals(snapshot)) {
            log.debug("CreateToolhelp32Snapshot failed [error={}]", Kernel32.INSTANCE.GetLastError());
            return Map.of();
        }
        Map<Integer, Integer> parents = new HashMap<>();
        try {
            Tlhelp32.PROCESSENTRY32.ByReference entry = new Tlhelp32.PROCESSENTRY32.ByReference();
            if (Kernel32.INSTANCE.Process32First(snapshot, entry)) {
                do {
                    parents.put(entry.th32ProcessID.intValue(), entry.th32ParentProcessID.intValue());
                } while (Kernel32.INSTANCE.Process32Next(snapshot, entry));
            }
        } finally {
            Kernel32.INSTANCE.CloseHandle(snapshot);
        }
        return parents;
    }

    @Override
    public ProcessDetails query(int pid) throws WindowsException {
        WinNT.HANDLE process = Kernel32.INSTANCE.OpenProcess(WinNT.PROCESS_QUERY_LIMITED_INFORMATION, false, pid);
        if (process == null) {
            throw new WindowsException("OpenProcess", pid, Kernel32.INSTANCE.GetLastError());
        }
        try {
            char[] path = new char[MAX_PATH];
            IntByReference length = new IntByReference(path.length);
            if (!Kernel32.INSTANCE.QueryFullProcessImageName(process, 0, path, length)) {
                throw new WindowsException("QueryFullProcessImageName", pid, Kernel32.INSTANCE.GetLastError());
            }
            WinBase.FILETIME created = new WinBase.FILETIME();
            WinBase.FILETIME exited = new WinBase.FILETIME();
            WinBase.FILETIME kernel = new WinBase.FILETIME();
            WinBase.FILETIME user = new WinBase.FILETIME();
            if (!Kernel32.INSTANCE.GetProcessTimes(process, created, exited, kernel, user)) {
                throw new WindowsException("GetProcessTimes", pid, Kernel32.INSTANCE.GetLastError());
            }
            long ticks = ((long) created.dwHighDateTime << 32) | (created.dwLowDateTime & 0xFFFF_FFFFL);
            IntByReference session = new IntByReference(-1);
            int sessionId = Kernel32.INSTANCE.ProcessIdToSessionId(pid, session) ? session.getValue() : -1;
            return new ProcessDetails(new String(path, 0, length.getValue()),
                    WindowsProcessSource.fileTimeToInstant(ticks), tokenUser(process, pid), sessionId);
        } finally {
            Kernel32.INSTANCE.CloseHandle(process);
        }
    }

    /** {@code DOMAIN\name} of the process token (GetTokenInformation(TokenUser) + LookupAccountSid), or null. */
    private static String tokenUser(WinNT.HANDLE process, int pid) {
        WinNT.HANDLEByReference token = new WinNT.HANDLEByReference();
        if (!Advapi32.INSTANCE.OpenProcessToken(process, WinNT.TOKEN_QUERY, token)) {
            log.debug("OpenProcessToken failed [pid={}, error={}]", pid, Kernel32.INSTANCE.GetLastError());
            return null;
        }
        try {
            Advapi32Util.Account account = Advapi32Util.getTokenAccount(token.getValue());
            return account.domain == null || account.domain.isEmpty() ? account.name : account.domain + "\\" + account.name;
        } catch (Win32Exception e) {
            log.debug("token user lookup failed [pid={}, error={}]", pid, e.getErrorCode());
            return null;
        } finally {
            Kernel32.INSTANCE.CloseHandle(token.getValue());
        }
    }
}
