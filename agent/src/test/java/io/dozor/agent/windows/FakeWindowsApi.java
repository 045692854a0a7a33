package io.dozor.agent.windows;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A process table behind the {@link WindowsApi} calls, counting them. */
final class FakeWindowsApi implements WindowsApi {

    record Entry(ProcessDetails details, int parent, int error) {}

    private final Map<Integer, Entry> processes = new LinkedHashMap<>();
    final List<Integer> queried = new ArrayList<>();
    final List<Integer> startTimesRead = new ArrayList<>();
    int parentSnapshots;

    FakeWindowsApi start(int pid, String image, Instant start, String user, int session, int parent) {
        processes.put(pid, new Entry(new ProcessDetails(image, start, user, session), parent, 0));
        return this;
    }

    /** A process whose OpenProcess fails with {@code error}. */
    FakeWindowsApi unreadable(int pid, int error) {
        processes.put(pid, new Entry(null, 0, error));
        return this;
    }

    FakeWindowsApi exit(int pid) {
        processes.remove(pid);
        return this;
    }

    @Override
    public int[] processIds() {
        return processes.keySet().stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public Map<Integer, Integer> parentIds() {
        parentSnapshots++;
        Map<Integer, Integer> parents = new HashMap<>();
        processes.forEach((pid, e) -> parents.put(pid, e.parent()));
        return parents;
    }

    @Override
    public ProcessDetails query(int pid) throws WindowsException {
        queried.add(pid);
        Entry e = processes.get(pid);
        if (e == null) {
            throw new WindowsException("OpenProcess", pid, WindowsException.ERROR_INVALID_PARAMETER);
        }
        if (e.error() != 0) {
            throw new WindowsException("OpenProcess", pid, e.error());
        }
        return e.details();
    }

    @Override
    public Instant startTime(int pid) throws WindowsException {
        startTimesRead.add(pid);
        Entry e = processes.get(pid);
        if (e == null) {
            throw new WindowsException("OpenProcess", pid, WindowsException.ERROR_INVALID_PARAMETER);
        }
        if (e.error() != 0) {
            throw new WindowsException("OpenProcess", pid, e.error());
        }
        return e.details().startTime();
    }
}
