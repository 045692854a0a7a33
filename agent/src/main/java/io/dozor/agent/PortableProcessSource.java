package io.dozor.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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

    @Override
    public List<ProcessInfo> snapshot() {
        List<ProcessInfo> result = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(handle -> {
            ProcessHandle.Info info = handle.info();
            Optional<String> command = info.command();
            Optional<Instant> start = info.startInstant();
            if (command.isEmpty() || start.isEmpty()) {
                return;
            }
            long parent = handle.parent().map(ProcessHandle::pid).orElse(-1L);
            result.add(new ProcessInfo(handle.pid(), start.get().plus(startTimeCorrection),
                    fileName(command.get()), command.get(), info.user().orElse(null), parent));
        });
        return result;
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
        long btime = procStat.lines()
                .filter(l -> l.startsWith("btime "))
                .mapToLong(l -> Long.parseLong(l.substring("btime ".length()).trim()))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no btime in /proc/stat"));
        Duration correction = Duration.between(Instant.ofEpochSecond(btime), now.minus(uptime));
        if (correction.compareTo(SLACK.negated()) < 0 || correction.compareTo(Duration.ofSeconds(1).plus(SLACK)) > 0) {
            return Duration.ZERO;
        }
        if (correction.isNegative()) {
            return Duration.ZERO;
        }
        return correction.compareTo(MAX_CORRECTION) > 0 ? MAX_CORRECTION : correction;
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
