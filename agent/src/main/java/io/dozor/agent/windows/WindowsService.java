package io.dozor.agent.windows;

import com.sun.jna.Native;
import com.sun.jna.platform.win32.Advapi32;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.platform.win32.Winsvc;
import java.lang.ref.Reference;
import org.slf4j.LoggerFactory;

/**
 * The agent as a Windows service, with nothing but the JDK and this jar: {@link #install} registers
 * {@code java.exe ... -jar dozor-agent.jar service --config agent.ini} with the service control manager
 * (auto start, LocalSystem); {@link #run} is what that command does: it hands the main thread to the
 * service control dispatcher and starts/stops the agent on its requests.
 */
public final class WindowsService {

    public static final String NAME = "DozorAgent";
    public static final String DISPLAY_NAME = "Dozor agent";

    private WindowsService() {}

    /** Registers the service to start automatically with {@code commandLine} as its binary path. */
    public static void install(String commandLine) {
        Winsvc.SC_HANDLE manager = openManager();
        try {
            Winsvc.SC_HANDLE service = Advapi32.INSTANCE.CreateService(
                    manager,
                    NAME,
                    DISPLAY_NAME,
                    Winsvc.SERVICE_ALL_ACCESS,
                    WinNT.SERVICE_WIN32_OWN_PROCESS,
                    WinNT.SERVICE_AUTO_START,
                    WinNT.SERVICE_ERROR_NORMAL,
                    commandLine,
                    null,
                    null,
                    null,
                    null,
                    null);
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
                // fails when the service is not running (ERROR_SERVICE_NOT_ACTIVE): it is deleted all the same,
                // once stopped and every handle to it is closed
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
        return new IllegalStateException(call + " failed [error=" + Native.getLastError() + "]");
    }

    /**
     * Runs as the service: blocks in {@code StartServiceCtrlDispatcher} until the service stops.
     * {@code start} runs when the service starts; {@code stop} (stop the agent and close its spool) when
     * Windows asks it to stop, shuts down or announces a shutdown; the states and their order are
     * {@link ServiceControl}'s.
     */
    public static void run(Runnable start, Runnable stop) {
        ScmStatus status = new ScmStatus();
        ServiceControl control = new ServiceControl(status, start, stop);
        Winsvc.HandlerEx handler = (code, eventType, eventData, context) -> control.control(code);
        Winsvc.SERVICE_MAIN_FUNCTION main = (argc, argv) -> {
            // written here (the service-main thread), read by the handler on the dispatcher thread: volatile
            status.handle = Advapi32.INSTANCE.RegisterServiceCtrlHandlerEx(NAME, handler, null);
            if (status.handle == null) {
                LoggerFactory.getLogger(WindowsService.class)
                        .error("{}", failure("RegisterServiceCtrlHandlerEx").getMessage());
                return;
            }
            control.serviceMain();
        };
        Winsvc.SERVICE_TABLE_ENTRY entry = new Winsvc.SERVICE_TABLE_ENTRY();
        entry.lpServiceName = NAME;
        entry.lpServiceProc = main;
        Winsvc.SERVICE_TABLE_ENTRY[] table = (Winsvc.SERVICE_TABLE_ENTRY[]) entry.toArray(2); // null-terminated
        try {
            if (!Advapi32.INSTANCE.StartServiceCtrlDispatcher(table)) {
                throw failure("StartServiceCtrlDispatcher (not started by the service control manager?)");
            }
        } finally {
            // native code calls these until the dispatcher returns: keep the callbacks alive until then
            Reference.reachabilityFence(handler);
            Reference.reachabilityFence(main);
            Reference.reachabilityFence(table);
        }
    }

    /** {@code SetServiceStatus} on the handle the service-main thread registered. */
    private static final class ScmStatus implements ServiceControl.StatusReporter {
        volatile Winsvc.SERVICE_STATUS_HANDLE handle;

        @Override
        public void report(ServiceControl.Status s) {
            Winsvc.SERVICE_STATUS_HANDLE h = handle;
            if (h == null) {
                return;
            }
            Winsvc.SERVICE_STATUS status = new Winsvc.SERVICE_STATUS();
            status.dwServiceType = WinNT.SERVICE_WIN32_OWN_PROCESS;
            status.dwCurrentState = s.state();
            status.dwControlsAccepted = s.accepted();
            status.dwWin32ExitCode = s.win32ExitCode();
            status.dwServiceSpecificExitCode = s.serviceExitCode();
            status.dwCheckPoint = s.checkPoint();
            status.dwWaitHint = s.waitHintMs();
            if (!Advapi32.INSTANCE.SetServiceStatus(h, status)) {
                LoggerFactory.getLogger(WindowsService.class)
                        .warn("{}", failure("SetServiceStatus").getMessage());
            }
        }
    }
}
