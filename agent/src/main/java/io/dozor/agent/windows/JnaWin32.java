package io.dozor.agent.windows;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.platform.win32.Advapi32;
import com.sun.jna.platform.win32.Kernel32;
import com.sun.jna.platform.win32.Psapi;
import com.sun.jna.platform.win32.Tlhelp32;
import com.sun.jna.platform.win32.WinBase;
import com.sun.jna.platform.win32.WinDef;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import io.dozor.agent.windows.WindowsApi.WindowsException;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link Win32} through jna-platform (kernel32, psapi, advapi32): each method is one call, and a failure's
 * code is {@code Native.getLastError()}, which JNA saves right after the native call.
 */
final class JnaWin32 implements Win32 {

    @Override
    public int enumProcesses(int[] pids) throws WindowsException {
        IntByReference returned = new IntByReference();
        if (!Psapi.INSTANCE.EnumProcesses(pids, pids.length * Integer.BYTES, returned)) {
            throw failed("EnumProcesses", 0);
        }
        return returned.getValue();
    }

    @Override
    public Map<Integer, Integer> parentIds() throws WindowsException {
        WinNT.HANDLE snapshot =
                Kernel32.INSTANCE.CreateToolhelp32Snapshot(Tlhelp32.TH32CS_SNAPPROCESS, new WinDef.DWORD(0));
        if (snapshot == null || WinBase.INVALID_HANDLE_VALUE.equals(snapshot)) {
            throw failed("CreateToolhelp32Snapshot", 0);
        }
        try {
            Map<Integer, Integer> parents = new HashMap<>();
            Tlhelp32.PROCESSENTRY32.ByReference entry = new Tlhelp32.PROCESSENTRY32.ByReference();
            if (Kernel32.INSTANCE.Process32First(snapshot, entry)) {
                do {
                    parents.put(entry.th32ProcessID.intValue(), entry.th32ParentProcessID.intValue());
                } while (Kernel32.INSTANCE.Process32Next(snapshot, entry));
            }
            return parents;
        } finally {
            Kernel32.INSTANCE.CloseHandle(snapshot);
        }
    }

    @Override
    public long openProcess(int pid) throws WindowsException {
        WinNT.HANDLE process = Kernel32.INSTANCE.OpenProcess(WinNT.PROCESS_QUERY_LIMITED_INFORMATION, false, pid);
        if (process == null) {
            throw failed("OpenProcess", pid);
        }
        return value(process);
    }

    @Override
    public int queryFullProcessImageName(long process, char[] buffer) throws WindowsException {
        IntByReference size = new IntByReference(buffer.length);
        if (!Kernel32.INSTANCE.QueryFullProcessImageName(handle(process), 0, buffer, size)) {
            throw failed("QueryFullProcessImageName", 0);
        }
        return size.getValue();
    }

    @Override
    public long creationTime(long process) throws WindowsException {
        WinBase.FILETIME created = new WinBase.FILETIME();
        WinBase.FILETIME exited = new WinBase.FILETIME();
        WinBase.FILETIME kernel = new WinBase.FILETIME();
        WinBase.FILETIME user = new WinBase.FILETIME();
        if (!Kernel32.INSTANCE.GetProcessTimes(handle(process), created, exited, kernel, user)) {
            throw failed("GetProcessTimes", 0);
        }
        return ((long) created.dwHighDateTime << 32) | (created.dwLowDateTime & 0xFFFF_FFFFL);
    }

    @Override
    public long openProcessToken(long process) throws WindowsException {
        WinNT.HANDLEByReference token = new WinNT.HANDLEByReference();
        if (!Advapi32.INSTANCE.OpenProcessToken(handle(process), WinNT.TOKEN_QUERY, token)) {
            throw failed("OpenProcessToken", 0);
        }
        return value(token.getValue());
    }

    @Override
    public byte[] tokenUserSid(long token, int bufferBytes) throws WindowsException {
        IntByReference needed = new IntByReference();
        WinNT.TOKEN_USER user = bufferBytes > 0 ? new WinNT.TOKEN_USER(bufferBytes) : null;
        if (!Advapi32.INSTANCE.GetTokenInformation(
                handle(token), WinNT.TOKEN_INFORMATION_CLASS.TokenUser, user, bufferBytes, needed)) {
            int code = Native.getLastError();
            throw new WindowsException("GetTokenInformation(TokenUser)", 0, code, needed.getValue());
        }
        return user.User.Sid.getBytes();
    }

    @Override
    public int tokenSessionId(long token) throws WindowsException {
        Dword session = new Dword();
        IntByReference returned = new IntByReference();
        if (!Advapi32.INSTANCE.GetTokenInformation(
                handle(token), WinNT.TOKEN_INFORMATION_CLASS.TokenSessionId, session, Integer.BYTES, returned)) {
            throw failed("GetTokenInformation(TokenSessionId)", 0);
        }
        session.read();
        return session.value;
    }

    @Override
    public String[] lookupAccountSid(byte[] sid, int nameChars, int domainChars) throws WindowsException {
        char[] name = new char[nameChars];
        char[] domain = new char[domainChars];
        IntByReference nameSize = new IntByReference(nameChars);
        IntByReference domainSize = new IntByReference(domainChars);
        PointerByReference use = new PointerByReference();
        if (!Advapi32.INSTANCE.LookupAccountSid(null, new WinNT.PSID(sid), name, nameSize, domain, domainSize, use)) {
            int code = Native.getLastError();
            throw new WindowsException(
                    "LookupAccountSid", 0, code, Math.max(nameSize.getValue(), domainSize.getValue()));
        }
        // on success the sizes are the lengths without the NUL
        return new String[] {new String(name, 0, nameSize.getValue()), new String(domain, 0, domainSize.getValue())};
    }

    @Override
    public int processIdToSessionId(int pid) throws WindowsException {
        IntByReference session = new IntByReference();
        if (!Kernel32.INSTANCE.ProcessIdToSessionId(pid, session)) {
            throw failed("ProcessIdToSessionId", pid);
        }
        return session.getValue();
    }

    @Override
    public void closeHandle(long handle) {
        Kernel32.INSTANCE.CloseHandle(handle(handle));
    }

    /** The failure of the call just made: its last-error code as JNA saved it right after the call. */
    private static WindowsException failed(String call, int pid) {
        return new WindowsException(call, pid, Native.getLastError());
    }

    private static long value(WinNT.HANDLE handle) {
        return Pointer.nativeValue(handle.getPointer());
    }

    private static WinNT.HANDLE handle(long value) {
        return new WinNT.HANDLE(new Pointer(value));
    }

    /** A DWORD as the structure {@code GetTokenInformation} fills. */
    @Structure.FieldOrder("value")
    public static final class Dword extends Structure {
        public int value;
    }
}
