package io.dozor.agent.windows;

import com.sun.jna.platform.win32.Advapi32;
import com.sun.jna.platform.win32.Kernel32;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.platform.win32.Winsvc;
import java.util.concurrent.CountDownLatch;

/**
 * The agent as a Windows service, with nothing but the JDK and this jar: {@link #install} registers
 * {@code java.exe ... -jar dozor-agent.jar service --config agent.ini} with the service control manager
 * (auto start, LocalSystem); {@link #run} is what that command does: it hands the main thread to the
 * service control dispatcher and starts/stops the agent on its requests.
 */
public final class WindowsService {

    public static final String NAME = "DozorAgent";
    public static final String DISPLAY_NAME = "Dozor agent";

    private WindowsService() {
    }

    /** Registers the service to start automatically with {@code commandLine} as its binary path. */
    public static void install(String commandLine) {
        Winsvc.SC_HANDLE manager = openManager();
        try {
            Winsvc.SC_HANDLE service = Advapi32.INSTANCE.CreateService(manager, NAME, DISPLAY_NAME,
                    Winsvc.SERVICE_ALL_ACCESS, WinNT.SERVICE_WIN32_OWN_PROCESS, WinNT.SERVICE_AUTO_START,
                    WinNT.SERVICE_ERROR_NORMAL, commandLine, null, null, null, null, null);
            if (service == null) {
                throw failure("CreateService");
            }
            Advapi32.INSTANCE.CloseServiceHandle(service);
        } finally {
            Advapi32.INSTANCE.CloseServiceHandle(manager);
        }
    }

    /** Stops the service if it runs, then deletes it. */
    public static void uninstall() {
        Winsvc.SC_HANDLE manager = openManager();
        try {
            Winsvc.SC_HANDLE service = Advapi32.INSTANCE.OpenService(manager, NAME, Winsvc.SERVICE_ALL_ACCESS);
            if (service == null) {
                throw failure("OpenService");
            }
            try {
                Advapi32.INSTANCE.ControlService(service, Winsvc.SERVICE_CONTROL_STOP, new Winsvc.SERVICE_STATUS());
                if (!Advapi32.INSTANCE.DeleteService(service)) {
                    throw failure("DeleteService");
                }
            } finally {
                Advapi32.INSTANCE.CloseServiceHandle(service);
            }
        } finally {
            Advapi32.INSTANCE.CloseServiceHandle(manager);
        }
    }

    private static Winsvc.SC_HANDLE openManager() {
        Winsvc.SC_HANDLE manager = Advapi32.INSTANCE.OpenSCManager(null, null, Winsvc.SC_MANAGER_ALL_ACCESS);
        if (manager == null) {
            throw failure("OpenSCManager (run as administrator)");
        }
        return manager;
    }

    private static IllegalStateException failure(String call) {
        return new IllegalStateException(call + " failed [error=" + Kernel32.INSTANCE.GetLastError() + "]");
    }

    /**
     * Runs as the service: blocks in {@code StartServiceCtrlDispatcher} until the service stops.
     * {@code start} runs when the service starts; {@code stop} when Windows asks it to stop or shuts down.
     */
    public static void run(Runnable start, Runnable stop) {
        CountDownLatch stopped = new CountDownLatch(1);
        Winsvc.SERVICE_STATUS_HANDLE[] handle = new Winsvc.SERVICE_STATUS_HANDLE[1];
        Winsvc.HandlerEx handler = (control, eventType, eventData, context) -> {
            if (control == Winsvc.SERVICE_CONTROL_STOP || control == Winsvc.SERVICE_CONTROL_SHUTDOWN) {
                report(handle[0], Winsvc.SERVICE_STOP_PENDING, 0);
                try {
                    stop.run();
                } finally {
                    report(handle[0], Winsvc.SERVICE_STOPPED, 0);
                    stopped.countDown();
                }
            }
            return 0; // NO_ERROR, also for SERVICE_CONTROL_INTERROGATE
        };
        Winsvc.SERVICE_MAIN_FUNCTION main = (argc, argv) -> {
            handle[0] = Advapi32.INSTANCE.RegisterServiceCtrlHandlerEx(NAME, handler, null);
            report(handle[0], Winsvc.SERVICE_START_PENDING, 0);
            try {
                start.run();
                report(handle[0], Winsvc.SERVICE_RUNNING, Winsvc.SERVICE_ACCEPT_STOP | Winsvc.SERVICE_ACCEPT_SHUTDOWN);
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                report(handle[0], Winsvc.SERVICE_STOPPED, 0);
                throw e;
            }
        };
        Winsvc.SERVICE_TABLE_ENTRY entry = new Winsvc.SERVICE_TABLE_ENTRY();
        entry.lpServiceName = NAME;
        entry.lpServiceProc = main;
        Winsvc.SERVICE_TABLE_ENTRY[] table = (Winsvc.SERVICE_TABLE_ENTRY[]) entry.toArray(2); // null-terminated
        if (!Advapi32.INSTANCE.StartServiceCtrlDispatcher(table)) {
            throw failure("StartServiceCtrlDispatcher (not started by the service control manager?)");
        }
    }

    private static void report(Winsvc.SERVICE_STATUS_HANDLE handle, int state, int accepted) {
        if (handle == null) {
            return;
        }
        Winsvc.SERVICE_STATUS status = new Winsvc.SERVICE_STATUS();
        status.dwServiceType = WinNT.SERVICE_WIN32_OWN_PROCESS;
        status.dwCurrentState = state;
        status.dwControlsAccepted = accepted;
        status.dwWaitHint = state == Winsvc.SERVICE_RUNNING || state == Winsvc.SERVICE_STOPPED ? 0 : 30_000;
        Advapi32.INSTANCE.SetServiceStatus(handle, status);
    }
}
