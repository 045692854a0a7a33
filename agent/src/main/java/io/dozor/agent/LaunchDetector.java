package io.dozor.agent;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
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
 *   <li>Not reported: processes of session 0 (services), of SYSTEM, LOCAL SERVICE, NETWORK SERVICE, of
 *       an excluded or unknown user ({@code NT AUTHORITY\SYSTEM} matches {@code SYSTEM}), with an
 *       excluded name, or whose executable lies under an excluded path.</li>
 *   <li>A process whose parent runs under the same name is part of that program (Chrome's renderers and
 *       helpers), not a launch.</li>
 * </ul>
 * Not thread-safe: one poller calls {@link #detect} and {@link #reconfigure}.
 */
public final class LaunchDetector {

    private static final Logger log = LoggerFactory.getLogger(LaunchDetector.class);

    /** Service accounts: never a person launching a program. */
    public static final List<String> SERVICE_ACCOUNTS = List.of("SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE");

    /** What is watched and what is excluded; replaced as a whole when the settings change. */
    public record Filter(
            Set<String> watched, Set<String> excludedUsers, Set<String> excludedNames, List<String> excludedPaths) {

        public static Filter of(
                Collection<String> watchedNames,
                Collection<String> excludedUsers,
                Collection<String> excludedNames,
                Collection<String> excludedPaths) {
            Set<String> users =
                    excludedUsers.stream().map(LaunchDetector::normaliseUser).collect(Collectors.toSet());
            SERVICE_ACCOUNTS.forEach(u -> users.add(normaliseUser(u)));
            return new Filter(
                    watchedNames.stream().map(LaunchDetector::normaliseName).collect(Collectors.toUnmodifiableSet()),
                    Set.copyOf(users),
                    excludedNames.stream().map(LaunchDetector::normaliseName).collect(Collectors.toUnmodifiableSet()),
                    excludedPaths.stream().map(LaunchDetector::normalisePath).toList());
        }

        public static Filter of(AgentConfig config) {
            return of(config.processes(), config.excludeUsers(), config.excludeNames(), config.excludePaths());
        }
    }

    private final boolean reportExisting;
    private volatile Filter filter;
    private Map<ProcessInfo.Key, ProcessInfo> previous;
    /** The list the last snapshot came in: a source returns the same list again only when nothing changed. */
    private List<ProcessInfo> previousSnapshot;

    private Set<ProcessInfo.Key> alreadyReported = Set.of();

    public LaunchDetector(Filter filter, boolean reportExisting) {
        this.filter = filter;
        this.reportExisting = reportExisting;
    }

    public LaunchDetector(Collection<String> watchedNames, Collection<String> excludedUsers, boolean reportExisting) {
        this(Filter.of(watchedNames, excludedUsers, List.of(), List.of()), reportExisting);
    }

    public LaunchDetector(AgentConfig config) {
        this(Filter.of(config), config.reportExisting());
    }

    /** Applies new watch and exclusion lists from the next {@link #detect} on. */
    public void reconfigure(Filter newFilter) {
        this.filter = newFilter;
    }

    public Filter filter() {
        return filter;
    }

    /** The launches in {@code snapshot} that were not in the previous one, in snapshot order. */
    public List<ProcessInfo> detect(List<ProcessInfo> snapshot) {
        if (snapshot == previousSnapshot) {
            return List.of(); // the source's unchanged table (LinuxProcSource): nothing started or exec'd
        }
        previousSnapshot = snapshot;
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
                boolean isNew = baseline ? !wasReported(p) : isNewOrExecd(p);
                if (isNew && isWatched(p) && !isExcluded(p) && !isChildOfSameProgram(p, byPid, previousByPid)) {
                    launches.add(p);
                }
            }
        }
        previous = current;
        alreadyReported = Set.of();
        return launches;
    }

    /**
     * Processes (pid and start time to the millisecond) reported before the agent restarted: with
     * {@code report_existing} the first snapshot does not report them again.
     */
    public void alreadyReported(Set<ProcessInfo.Key> keys) {
        alreadyReported = Set.copyOf(keys);
    }

    private boolean wasReported(ProcessInfo p) {
        ProcessInfo.Key key = p.key();
        return alreadyReported.stream().anyMatch(key::sameProcess);
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
        return isWatchedName(p.name());
    }

    /** Watched and not excluded by name; safe to call from any thread. */
    public boolean isWatchedName(String processName) {
        Filter f = filter;
        String name = normaliseName(processName);
        return f.watched().contains(name) && !f.excludedNames().contains(name);
    }

    private boolean isExcluded(ProcessInfo p) {
        if (p.sessionId() == 0) {
            log.debug("launch skipped, session 0 [process={}, pid={}]", p.name(), p.pid());
            return true;
        }
        if (p.user() == null) {
            log.debug("launch skipped, user unknown [process={}, pid={}]", p.name(), p.pid());
            return true;
        }
        if (filter.excludedUsers().contains(normaliseUser(p.user()))) {
            log.debug("launch skipped, excluded user [process={}, pid={}, user={}]", p.name(), p.pid(), p.user());
            return true;
        }
        if (p.executable() != null && !filter.excludedPaths().isEmpty()) {
            String path = normalisePath(p.executable());
            for (String excluded : filter.excludedPaths()) {
                if (path.equals(excluded) || path.startsWith(excluded.endsWith("/") ? excluded : excluded + "/")) {
                    log.debug(
                            "launch skipped, excluded path [process={}, pid={}, executable={}]",
                            p.name(),
                            p.pid(),
                            p.executable());
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isChildOfSameProgram(
            ProcessInfo p, Map<Long, ProcessInfo> current, Map<Long, ProcessInfo> previous) {
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

    /** {@code C:\Program Files\X\} becomes {@code c:/program files/x} (case-insensitive, either slash). */
    static String normalisePath(String path) {
        String p = path.trim().replace('\\', '/').toLowerCase(Locale.ROOT);
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    /** The part after the last backslash: {@code DOMAIN\ivanov} becomes {@code ivanov}. */
    static String userName(String user) {
        return user.substring(user.lastIndexOf('\\') + 1);
    }
}
