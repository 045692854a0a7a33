package io.dozor.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Processes from {@link ProcessHandle#allProcesses()}: works on any OS the JDK supports, with the
 * precision and permissions the JDK has (other users' processes may lack a command or user).
 */
public final class PortableProcessSource implements ProcessSource {

    private static final Logger log = LoggerFactory.getLogger(PortableProcessSource.class);
    private static final Duration MAX_CORRECTION = Duration.ofMillis(999);
    private static final Duration SLACK = Duration.ofMillis(100);
    private static final boolean LINUX =
            System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");

    private final Duration startTimeCorrection;

    /** Reads the Linux boot time correction once (zero on other systems). */
    public PortableProcessSource() {
        this(linuxStartTimeCorrection());
    }

    /** With an explicit correction added to every start instant. */
    public PortableProcessSource(Duration startTimeCorrection) {
        this.startTimeCorrection = startTimeCorrection;
    }

    public Duration startTimeCorrection() {
        return startTimeCorrection;
    }

    /**
     * The processes running now. On Linux, what was read about a pid is reused while its {@code /proc}
     * stamp (name and start ticks) is unchanged: {@code info()} (several files and a user lookup) is asked
     * only for new processes and after an exec.
     */
    @Override
    public synchronized List<ProcessInfo> snapshot() {
        List<ProcessInfo> result = new ArrayList<>();
        Map<Long, Cached> seen = new HashMap<>(cache.size() * 2 + 16);
        ProcessHandle.allProcesses().forEach(handle -> {
            String stamp = stamp(handle.pid());
            Cached cached = cache.get(handle.pid());
            if (stamp != null && cached != null && stamp.equals(cached.stamp())) {
                seen.put(handle.pid(), cached);
                result.add(cached.process());
                return;
            }
            ProcessHandle.Info info = handle.info();
            Optional<String> command = info.command();
            Optional<Instant> start = info.startInstant();
            if (command.isEmpty() || start.isEmpty()) {
                return;
            }
            long parent = handle.parent().map(ProcessHandle::pid).orElse(-1L);
            ProcessInfo process = new ProcessInfo(
                    handle.pid(),
                    start.get().plus(startTimeCorrection),
                    fileName(command.get()),
                    command.get(),
                    info.user().orElse(null),
                    parent);
            if (stamp != null) {
                seen.put(handle.pid(), new Cached(stamp, process));
            }
            result.add(process);
        });
        cache = seen;
        return result;
    }

    private record Cached(String stamp, ProcessInfo process) {}

    private Map<Long, Cached> cache = new HashMap<>();

    /**
     * {@code (comm)} and the start ticks from {@code /proc/<pid>/stat}: both change when the pid is reused,
     * the name also on exec. Null when not on Linux or unreadable (then nothing is cached).
     */
    private static String stamp(long pid) {
        if (!LINUX) {
            return null;
        }
        try {
            return stamp(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** From the text of /proc/<pid>/stat: {@code "(comm) starttime"}, or null when malformed. */
    static String stamp(String stat) {
        int close = stat.lastIndexOf(')');
        int open = stat.indexOf('(');
        if (open < 0 || close < open) {
            return null;
        }
        String[] fields = stat.substring(close + 2).split(" ", 21);
        // after "pid (comm) " the fields start at 3 (state); starttime is field 22
        return fields.length < 20 ? null : stat.substring(open, close + 1) + " " + fields[19];
    }

    /** The part after the last {@code /} or {@code \}. */
    static String fileName(String command) {
        int slash = Math.max(command.lastIndexOf('/'), command.lastIndexOf('\\'));
        return command.substring(slash + 1);
    }

    /*
     * Why a correction: on Linux the JDK computes a start instant as btime + starttime ticks, where btime
     * is the boot time from /proc/stat in WHOLE seconds (truncated). So every start instant is early by the
     * fractional part of the real boot time, up to one second -- enough to put a launch in the wrong second
     * and to make two sources disagree. /proc/uptime has 10 ms resolution, so now - uptime is the boot time
     * to about 10 ms; its distance from btime is the fraction the JDK dropped. It is computed once, like the
     * JDK reads btime once.
     */
    private static Duration linuxStartTimeCorrection() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return Duration.ZERO;
        }
        Path uptime = Path.of("/proc/uptime");
        Path stat = Path.of("/proc/stat");
        if (!Files.isReadable(uptime) || !Files.isReadable(stat)) {
            return Duration.ZERO;
        }
        try {
            String uptimeText = Files.readString(uptime);
            Instant now = Instant.now();
            String statText = Files.readString(stat);
            Duration correction = bootTimeCorrection(uptimeText, statText, now);
            log.debug("start time correction [millis={}]", correction.toMillis());
            return correction;
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read the boot time, start times may be up to 1 s early [error={}]", e.toString());
            return Duration.ZERO;
        }
    }

    /**
     * The fraction of a second the JDK loses by using {@code btime}: {@code (now - uptime) - btime},
     * clamped to [0, 999 ms]. A result far outside that range means the inputs disagree (a clock step
     * between the reads): then no correction is applied.
     *
     * @param procUptime text of /proc/uptime ({@code "12345.67 54321.00"})
     * @param procStat   text of /proc/stat (holding a line {@code "btime 1700000000"})
     * @param now        the wall clock when /proc/uptime was read
     */
    static Duration bootTimeCorrection(String procUptime, String procStat, Instant now) {
        String[] fields = procUptime.trim().split("\\s+");
        Duration uptime = parseSeconds(fields[0]);
        long btime = btime(procStat);
        Duration correction = Duration.between(Instant.ofEpochSecond(btime), now.minus(uptime));
        if (correction.compareTo(SLACK.negated()) < 0
                || correction.compareTo(Duration.ofSeconds(1).plus(SLACK)) > 0) {
            return Duration.ZERO;
        }
        if (correction.isNegative()) {
            return Duration.ZERO;
        }
        return correction.compareTo(MAX_CORRECTION) > 0 ? MAX_CORRECTION : correction;
    }

    /** The boot time in whole seconds, from the {@code btime} line of the text of /proc/stat. */
    static long btime(String procStat) {
        return procStat.lines()
                .filter(l -> l.startsWith("btime "))
                .mapToLong(l -> Long.parseLong(l.substring("btime ".length()).trim()))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no btime in /proc/stat"));
    }

    /** "12345.67" as a duration, exactly (no floating point). */
    static Duration parseSeconds(String text) {
        int dot = text.indexOf('.');
        if (dot < 0) {
            return Duration.ofSeconds(Long.parseLong(text));
        }
        String fraction = (text.substring(dot + 1) + "000000000").substring(0, 9);
        return Duration.ofSeconds(Long.parseLong(text.substring(0, dot)), Long.parseLong(fraction));
    }
}
