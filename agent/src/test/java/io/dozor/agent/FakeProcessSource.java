package io.dozor.agent;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A process table the test edits by hand. */
final class FakeProcessSource implements ProcessSource {

    static final Instant T0 = Instant.parse("2026-11-27T07:00:00Z");

    private final List<ProcessInfo> running = new CopyOnWriteArrayList<>();

    FakeProcessSource start(ProcessInfo p) {
        running.add(p);
        return this;
    }

    FakeProcessSource exit(long pid) {
        running.removeIf(p -> p.pid() == pid);
        return this;
    }

    @Override
    public List<ProcessInfo> snapshot() {
        return new ArrayList<>(running);
    }

    static ProcessInfo process(long pid, int startSecond, String name, String user) {
        return process(pid, startSecond, name, user, 1);
    }

    static ProcessInfo process(long pid, int startSecond, String name, String user, long parentPid) {
        return new ProcessInfo(pid, T0.plusSeconds(startSecond), name, "C:\\Apps\\" + name, user, parentPid);
    }
}
