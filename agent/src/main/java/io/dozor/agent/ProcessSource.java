package io.dozor.agent;

import java.util.List;

/** Where process snapshots come from: the portable JDK API here, the Windows API later. */
public interface ProcessSource {

    /** The processes running now. Processes whose name or start time cannot be read are left out. */
    List<ProcessInfo> snapshot();
}
