package io.dozor.agent;

import java.util.List;
import java.util.function.Predicate;

/**
 * Where process snapshots come from: {@link PortableProcessSource} (the JDK), {@link LinuxProcSource} or
 * {@link io.dozor.agent.windows.WindowsProcessSource} (the Windows API); {@link ProcessSources} picks one.
 */
public interface ProcessSource {

    /**
     * The processes running now. Processes whose name or start time cannot be read are left out. A source may
     * return the same (unmodifiable) list as last time only when nothing has changed: the detector then skips it.
     */
    List<ProcessInfo> snapshot();

    /** Which names are watched now, for a source that checks watched processes more closely. */
    default void watch(Predicate<String> isWatchedName) {}
}
