package io.dozor.agent;

import io.dozor.agent.windows.WindowsProcessSource;
import java.util.Locale;

/**
 * Picks the process source of this system: the Windows API on Windows, {@code /proc} on Linux, the JDK's
 * portable one elsewhere (and on a Linux whose {@code /proc} cannot be read).
 */
public final class ProcessSources {

    private ProcessSources() {}

    public static ProcessSource forThisSystem() {
        String os = System.getProperty("os.name", "");
        if (isWindows(os)) {
            return WindowsProcessSource.create();
        }
        LinuxProcSource proc = isLinux(os) ? LinuxProcSource.create() : null;
        return proc != null ? proc : new PortableProcessSource();
    }

    static boolean isWindows(String osName) {
        return osName.toLowerCase(Locale.ROOT).startsWith("windows");
    }

    static boolean isLinux(String osName) {
        return osName.toLowerCase(Locale.ROOT).startsWith("linux");
    }
}
