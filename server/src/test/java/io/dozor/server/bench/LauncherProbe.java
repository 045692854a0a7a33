package io.dozor.server.bench;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/**
 * Stands in for {@code dozor-server.jar} in {@link ServerLauncherTest}: prints the JVM's heap bound, whether it
 * exits at an OutOfMemoryError, its flags and its arguments, one per line. Not a test.
 */
public final class LauncherProbe {
    private LauncherProbe() {}

    public static void main(String[] args) {
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        System.out.println("MaxHeapSize=" + vm.getVMOption("MaxHeapSize").getValue());
        System.out.println("ExitOnOutOfMemoryError="
                + vm.getVMOption("ExitOnOutOfMemoryError").getValue());
        System.out.println(
                "flags=" + String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        System.out.println("args=" + String.join(" ", args));
    }
}
