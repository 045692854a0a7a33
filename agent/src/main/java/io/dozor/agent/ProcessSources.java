package io.dozor.agent;

import io.dozor.agent.windows.WindowsProcessSource;
import java.util.Locale;

/** Picks the process source of this system: the Windows API on Windows, the JDK's portable one elsewhere. */
public final class ProcessSources {

    private ProcessSources() {
    }

    public static ProcessSource forThisSystem() {
        return isWindows(System.getProperty("os.name", "")) ? WindowsProcessSource.create() : new PortableProcessSource();
    }

    static boolean isWindows(String osName) {
        return osName.toLowerCase(Locale.ROOT).startsWith("windows");
    }
}
