package io.dozor.agent;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns successive snapshots into launches of watched programs.
 *
 * <ul>
 *   <li>A process is identified by (pid, start time): a reused pid is a new process. One that changes
 *       its name (exec after fork) counts as new too.</li>
 *   <li>The first snapshot is the baseline: what already runs is not a launch, unless
 *       {@code reportExisting}.</li>
 *   <li>Names match case-insensitively, {@code .exe} optional on both sides.</li>
 *   <li>Processes of excluded users, or of an unknown user, are skipped; {@code NT AUTHORITY\SYSTEM}
 *       matches {@code SYSTEM}.</li>
 *   <li>A process whose parent runs under the same name is part of that program (Chrome's renderers and
 *       helpers), not a launch.</li>
 * </ul>
 * Not thread-safe: one poller calls {@link #detect}.
 */
public final class LaunchDetector {

    private static final Logger log = LoggerFactory.getLogger(LaunchDetector.class);

    private final Set<String> watched;
    private final Set<String> excludedUsers;
    private final boolean reportExisting;
    private Map<ProcessInfo.Key, ProcessInfo> previous;

    public LaunchDetector(Collection<String> watchedNames, Collection<String> excludedUsers, boolean reportExisting) {
        this.watched = new HashSet<>();
        watchedNames.forEach(n -> watched.add(normaliseName(n)));
        this.excludedUsers = new HashSet<>();
        excludedUsers.forEach(u -> this.excludedUsers.add(normaliseUser(u)));
        this.reportExisting = reportExisting;
    }

    public LaunchDetector(AgentConfig config) {
        this(config.processes(), config.excludeUsers(), config.reportExisting());
    }

    /** The launches in {@code snapshot} that were not in the previous one, in snapshot order. */
    public List<ProcessInfo> detect(List<ProcessInfo> snapshot) {
        Map<ProcessInfo.Key, ProcessInfo> current = new HashMap<>(snapshot.size() * 2);
        Map<Long, ProcessInfo> byPid = new HashMap<>(snapshot.size() * 2);
        for (ProcessInfo p : snapshot) {
            current.put(p.key(), p);
            byPid.put(p.pid(), p);
        }
        boolean baseline = previous == null;
        Map<Long, ProcessInfo> previousByPid = new HashMap<>();
        if (!baseline) {
            previous.values().forEach(p -> previousByPid.put(p.pid(), p));
        }
        List<ProcessInfo> launches = new ArrayList<>();
        if (!baseline || reportExisting) {
            for (ProcessInfo p : snapshot) {
                boolean isNew = baseline || isNewOrExecd(p);
                if (isNew && isWatched(p) && !isExcluded(p) && !isChildOfSameProgram(p, byPid, previousByPid)) {
                    launches.add(p);
                }
            }
        }
        previous = current;
        return launches;
    }

    /**
     * Not seen before, or seen under another name: on Linux a snapshot can catch a process between fork
     * and exec, still named like its parent; the exec is the launch.
     */
    private boolean isNewOrExecd(ProcessInfo p) {
        ProcessInfo before = previous.get(p.key());
        return before == null || !normaliseName(before.name()).equals(normaliseName(p.name()));
    }

    private boolean isWatched(ProcessInfo p) {
        return watched.contains(normaliseName(p.name()));
    }

    private boolean isExcluded(ProcessInfo p) {
        if (p.user() == null) {
            log.debug("launch skipped, user unknown [process={}, pid={}]", p.name(), p.pid());
            return true;
        }
        return excludedUsers.contains(normaliseUser(p.user()));
    }

    private static boolean isChildOfSameProgram(ProcessInfo p, Map<Long, ProcessInfo> current,
                                                Map<Long, ProcessInfo> previous) {
        if (p.parentPid() < 0) {
            return false;
        }
        ProcessInfo parent = current.getOrDefault(p.parentPid(), previous.get(p.parentPid()));
        // a parent that started after the child is a reused pid, not the real parent
        return parent != null
                && !parent.startTime().isAfter(p.startTime())
                && normaliseName(parent.name()).equals(normaliseName(p.name()));
    }

    /** {@code Chrome.EXE} and {@code chrome} both become {@code chrome}. */
    static String normaliseName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return n.endsWith(".exe") ? n.substring(0, n.length() - 4) : n;
    }

    /** {@code NT AUTHORITY\SYSTEM} and {@code system} both become {@code system}. */
    static String normaliseUser(String user) {
        return userName(user).trim().toLowerCase(Locale.ROOT);
    }

    /** The part after the last backslash: {@code DOMAIN\ivanov} becomes {@code ivanov}. */
    static String userName(String user) {
        return user.substring(user.lastIndexOf('\\') + 1);
    }
}
