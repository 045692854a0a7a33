package io.dozor.agent.windows;

import io.dozor.agent.ProcessInfo;
import io.dozor.agent.ProcessSource;
import io.dozor.agent.windows.WindowsApi.ProcessDetails;
import io.dozor.agent.windows.WindowsApi.WindowsException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Processes from the Windows API, cheaply: every poll lists the pids ({@code EnumProcesses}, one call);
 * only a pid not seen before is opened and read (image, start time, user, session), and a Toolhelp
 * snapshot for the parents is taken only in a poll that has new pids. What was read is kept while the pid
 * stays in the list.
 *
 * <p>Pid reuse: Windows reuses pids quickly. A pid that leaves the list for one poll is read again when it
 * comes back. A pid reused between two polls without ever leaving the list is caught for processes whose
 * name is watched (their start time alone is read again every poll: three calls each, no token or account
 * lookup); a watched program that
 * takes over, within one poll interval, the pid of an unwatched process that just exited is not seen.
 *
 * <p>Pids 0 (System Idle) and 4 (System) are not processes anyone launches and cannot be opened: they are
 * never read. A process that cannot be opened (access denied: protected and system processes when not run as
 * SYSTEM) is skipped with a debug line and not retried while its pid stays in the list. One that looks gone
 * ({@code ERROR_INVALID_PARAMETER}) while its pid is still listed is tried again in the next
 * {@link #GONE_RETRIES} polls (its pid may have been reused by then), then left alone like the others: no pid
 * stays "new" for ever, which would open it and take a Toolhelp snapshot on every poll.
 */
public final class WindowsProcessSource implements ProcessSource {

    private static final Logger log = LoggerFactory.getLogger(WindowsProcessSource.class);
    /** System Idle Process and System: listed by EnumProcesses, never launched by anyone, never opened. */
    static final int IDLE_PID = 0;

    static final int SYSTEM_PID = 4;
    /** Further polls in which a listed pid that looked gone is read again before it is left alone. */
    static final int GONE_RETRIES = 2;

    private final WindowsApi api;
    private final Map<Integer, ProcessInfo> known = new HashMap<>();
    private final Set<Integer> unreadable = new HashSet<>();
    /** Listed pids that looked gone when read: how many times. Bounded by the pids listed. */
    private final Map<Integer, Integer> goneTimes = new HashMap<>();

    private volatile Predicate<String> watched = name -> true;

    public WindowsProcessSource(WindowsApi api) {
        this.api = api;
    }

    /** The source over the real Windows API (JNA); call only on Windows. */
    public static WindowsProcessSource create() {
        return new WindowsProcessSource(new Win32WindowsApi(new JnaWin32()));
    }

    @Override
    public void watch(Predicate<String> isWatchedName) {
        this.watched = isWatchedName;
    }

    @Override
    public synchronized List<ProcessInfo> snapshot() {
        int[] pids = api.processIds();
        Set<Integer> alive = new HashSet<>(pids.length * 2);
        for (int pid : pids) {
            alive.add(pid);
        }
        known.keySet().retainAll(alive);
        unreadable.retainAll(alive);
        goneTimes.keySet().retainAll(alive);
        recheckWatched();

        List<Integer> fresh = new ArrayList<>();
        for (int pid : pids) {
            if (pid != IDLE_PID && pid != SYSTEM_PID && !known.containsKey(pid) && !unreadable.contains(pid)) {
                fresh.add(pid);
            }
        }
        if (!fresh.isEmpty()) {
            Map<Integer, Integer> parents = api.parentIds();
            for (int pid : fresh) {
                read(pid, parents);
            }
        }
        return new ArrayList<>(known.values());
    }

    /** A watched process whose start time changed (or that cannot be read any more) is another process. */
    private void recheckWatched() {
        Predicate<String> isWatched = watched;
        known.values().removeIf(p -> {
            if (!isWatched.test(p.name())) {
                return false;
            }
            try {
                return !api.startTime((int) p.pid()).equals(p.startTime());
            } catch (WindowsException e) {
                return true;
            }
        });
    }

    private void read(int pid, Map<Integer, Integer> parents) {
        try {
            ProcessDetails d = api.query(pid);
            known.put(
                    pid,
                    new ProcessInfo(
                            pid,
                            d.startTime(),
                            fileName(d.image()),
                            d.image(),
                            d.user(),
                            parents.getOrDefault(pid, -1),
                            d.sessionId()));
            goneTimes.remove(pid);
        } catch (WindowsException e) {
            if (!e.processGone() || goneTimes.merge(pid, 1, Integer::sum) > GONE_RETRIES) {
                unreadable.add(pid);
                goneTimes.remove(pid);
            }
            log.debug("process skipped [pid={}, reason={}]", pid, e.accessDenied() ? "access denied" : e.getMessage());
        }
    }

    /** {@code C:\Apps\chrome.exe} gives {@code chrome.exe}. */
    static String fileName(String image) {
        return image.substring(Math.max(image.lastIndexOf('\\'), image.lastIndexOf('/')) + 1);
    }

    /** A FILETIME (100 ns ticks since 1601-01-01 UTC) as an instant. */
    public static Instant fileTimeToInstant(long ticks) {
        long sinceEpoch = ticks - 116_444_736_000_000_000L;
        return Instant.ofEpochSecond(
                Math.floorDiv(sinceEpoch, 10_000_000L), Math.floorMod(sinceEpoch, 10_000_000L) * 100);
    }
}
