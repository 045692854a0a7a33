package io.dozor.agent;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Processes from {@code /proc}, cheaply: every poll lists the pid directories and reads one small file per
 * pid, {@code /proc/<pid>/stat}, to compare its name and start ticks with what was read before. Only a pid
 * not seen before, or whose name or start ticks changed (exec, pid reuse), is read in full: the
 * {@code exe} link, {@code cmdline} when the link is unreadable, and the owner. When nothing changed the
 * previous snapshot (the same immutable list) is returned.
 *
 * <p>Compared with {@link PortableProcessSource}: the same processes, names, users and start times (boot
 * time from {@code /proc/uptime}, not the whole-second {@code btime}), at a fraction of the cost, since
 * {@link ProcessHandle#allProcesses()} reads every {@code stat} itself and {@code parent()} reads it again.
 * Kernel threads are left out. A process whose {@code exe} link cannot be read (another user's, when the
 * agent is not root) is named after {@code argv[0]}, else its {@code comm}, and has no executable path.
 *
 * <p>{@code root} is {@code /proc} except in tests, which build a fake tree with the same layout.
 */
public final class LinuxProcSource implements ProcessSource {

    private static final Logger log = LoggerFactory.getLogger(LinuxProcSource.class);
    /** USER_HZ: the unit of {@code starttime} in {@code /proc/<pid>/stat}, 100 on every Linux port the JDK runs on. */
    static final long TICKS_PER_SECOND = 100;
    /** PF_KTHREAD in the flags field of stat. */
    private static final long KERNEL_THREAD = 0x00200000;

    private static final String DELETED = " (deleted)";

    private final Path root;
    private final File rootDir;
    private final String rootPrefix;
    private final Instant bootTime;
    private final Map<String, Known> known = new HashMap<>();
    /** Holds one stat file; longer ones (never seen) are cut, which only loses fields past starttime. */
    private final byte[] buffer = new byte[4096];

    private int generation;
    private int held;
    private List<ProcessInfo> last = List.of();

    /**
     * Up to this many stat files are kept open and re-read from their start each poll: no path lookup, no
     * open and close, no new objects per pid and poll (about half the agent's CPU on Linux, BENCHMARKS.md).
     * A held file stays bound to its process: once that exits, reading fails, even if the pid is reused.
     */
    static final int MAX_HELD = 2048;

    /** What was read about a pid, and the stat fields that tell whether it is still the same program. */
    private static final class Known {
        final String statPath;
        RandomAccessFile stat;
        byte[] comm;
        long startTicks;
        ProcessInfo process;
        int seen;

        Known(String statPath) {
            this.statPath = statPath;
        }
    }

    /** @param bootTime the wall-clock instant of boot, to which start ticks are added */
    LinuxProcSource(Path root, Instant bootTime) {
        this.root = root;
        this.rootDir = root.toFile();
        this.rootPrefix = root.toString() + File.separator;
        this.bootTime = bootTime;
    }

    /** Over {@code /proc}, when this is Linux and {@code /proc/self/stat} can be read; else null. */
    public static LinuxProcSource create() {
        return create(Path.of("/proc"));
    }

    /** Over the tree at {@code root}, when its {@code self/stat} (or {@code 1/stat}) and boot time can be read; else null. */
    static LinuxProcSource create(Path root) {
        if (!Files.isReadable(root.resolve("self/stat")) && !Files.isReadable(root.resolve("1/stat"))) {
            return null;
        }
        try {
            return new LinuxProcSource(root, bootTime(root));
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read the boot time from {} [error={}]", root, e.toString());
            return null;
        }
    }

    /**
     * {@code btime} (whole seconds) plus the fraction that {@code now - uptime} adds, with the sanity
     * limits of {@link PortableProcessSource#bootTimeCorrection}.
     */
    static Instant bootTime(Path root) throws IOException {
        String uptime = Files.readString(root.resolve("uptime"));
        Instant now = Instant.now();
        String stat = Files.readString(root.resolve("stat"));
        Duration correction = PortableProcessSource.bootTimeCorrection(uptime, stat, now);
        return Instant.ofEpochSecond(PortableProcessSource.btime(stat)).plus(correction);
    }

    public Instant bootTime() {
        return bootTime;
    }

    @Override
    public synchronized List<ProcessInfo> snapshot() {
        String[] names = rootDir.list();
        if (names == null) {
            throw new IllegalStateException("cannot list " + root);
        }
        int now = ++generation;
        boolean changed = false;
        for (String name : names) {
            if (!isPid(name)) {
                continue;
            }
            Known k = known.get(name);
            if (k == null) {
                k = new Known(rootPrefix + name + File.separator + "stat");
            }
            int length = read(k);
            if (length < 0) {
                forget(name, k);
                continue; // gone since the listing, or unreadable: left out like a process that exited
            }
            int open = indexOf(buffer, length, (byte) '(');
            int close = lastIndexOf(buffer, length, (byte) ')');
            if (open < 0 || close < open) {
                forget(name, k);
                continue;
            }
            // the fields after "pid (comm) " start at 3 (state); ppid is 4, flags 9, starttime 22
            int at = close + 2;
            long parent = -1;
            long flags = 0;
            long startTicks = -1;
            for (int field = 3; field <= 22 && at < length; field++) {
                int end = at;
                while (end < length && buffer[end] != ' ') {
                    end++;
                }
                if (field == 4) {
                    parent = parseLong(buffer, at, end);
                } else if (field == 9) {
                    flags = parseLong(buffer, at, end);
                } else if (field == 22) {
                    startTicks = parseLong(buffer, at, end);
                }
                at = end + 1;
            }
            if (parent == 0) {
                parent = -1; // pid 1 and kthreadd: no parent, as ProcessHandle.parent() says
            }
            if (startTicks < 0) {
                forget(name, k);
                continue;
            }
            if ((flags & KERNEL_THREAD) != 0) { // kept, held and skipped: never in a snapshot
                k.process = null;
                k.seen = now;
                known.put(name, k);
                continue;
            }
            if (k.process != null
                    && k.startTicks == startTicks
                    && Arrays.equals(buffer, open + 1, close, k.comm, 0, k.comm.length)) {
                k.seen = now;
                continue;
            }
            // new, exec'd (another comm) or reused (other start ticks): read it in full
            byte[] comm = Arrays.copyOfRange(buffer, open + 1, close);
            ProcessInfo process = details(name, startTicks, parent, new String(comm, StandardCharsets.UTF_8));
            if (process == null) {
                forget(name, k);
                continue;
            }
            k.comm = comm;
            k.startTicks = startTicks;
            k.process = process;
            k.seen = now;
            known.put(name, k);
            changed = true;
        }
        if (known.values().removeIf(k -> k.seen != now && close(k))) {
            changed = true;
        }
        if (changed) {
            List<ProcessInfo> processes = new ArrayList<>(known.size());
            known.values().forEach(k -> {
                if (k.process != null) {
                    processes.add(k.process);
                }
            });
            last = List.copyOf(processes);
        }
        return last;
    }

    /**
     * Reads the pid's stat file into {@link #buffer}: through the held file, else (that process exited, and
     * the pid may be another's now) opened again by path. Its length, or -1 when it cannot be read.
     */
    private int read(Known k) {
        if (k.stat != null) {
            int length = read(k.stat);
            if (length > 0) {
                return length;
            }
            close(k);
        }
        try {
            RandomAccessFile file = new RandomAccessFile(k.statPath, "r");
            int length = read(file);
            if (length > 0 && held < MAX_HELD) {
                k.stat = file;
                held++;
            } else {
                file.close();
            }
            return length > 0 ? length : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Reads the file from its start into {@link #buffer}: procfs makes the text anew for each read from 0. */
    private int read(RandomAccessFile file) {
        try {
            file.seek(0);
            int length = 0;
            int n;
            while (length < buffer.length && (n = file.read(buffer, length, buffer.length - length)) > 0) {
                length += n;
            }
            return length;
        } catch (IOException e) {
            return -1;
        }
    }

    private void forget(String name, Known k) {
        close(k);
        known.remove(name);
    }

    /** Closes the held file, if any; true, for {@code removeIf}. */
    private boolean close(Known k) {
        if (k.stat != null) {
            try {
                k.stat.close();
            } catch (IOException e) {
                // nothing was written: nothing to lose
            }
            k.stat = null;
            held--;
        }
        return true;
    }

    /** How many stat files are held open now (for tests). */
    int held() {
        return held;
    }

    /** Executable, name and owner of a new (or changed) pid; null when it is gone. */
    private ProcessInfo details(String pid, long startTicks, long parent, String comm) {
        Path dir = root.resolve(pid);
        String executable = null;
        try {
            executable = Files.readSymbolicLink(dir.resolve("exe")).toString();
            if (executable.endsWith(DELETED)) {
                executable = executable.substring(0, executable.length() - DELETED.length());
            }
        } catch (IOException | UnsupportedOperationException e) {
            // another user's process when not root (or a zombie): named after argv[0] or comm below
        }
        String name = executable != null ? PortableProcessSource.fileName(executable) : argv0(dir, comm);
        String user;
        try {
            user = Files.getOwner(dir).getName();
        } catch (IOException e) {
            return null;
        }
        Instant start = bootTime.plusNanos(startTicks * (1_000_000_000L / TICKS_PER_SECOND));
        return new ProcessInfo(Long.parseLong(pid), start, name, executable, user, parent);
    }

    /** The file name of {@code argv[0]}, or {@code comm} when the command line is empty or unreadable. */
    private static String argv0(Path dir, String comm) {
        try {
            byte[] cmdline = Files.readAllBytes(dir.resolve("cmdline"));
            int end = indexOf(cmdline, cmdline.length, (byte) 0);
            String first = new String(cmdline, 0, end < 0 ? cmdline.length : end, StandardCharsets.UTF_8);
            // a program may rewrite its command line as one string ("/opt/x/chrome --type=renderer ...")
            boolean oneString = end < 0 || end == cmdline.length - 1;
            int space = first.indexOf(' ');
            String name = PortableProcessSource.fileName(oneString && space > 0 ? first.substring(0, space) : first);
            return name.isBlank() ? comm : name;
        } catch (IOException e) {
            return comm;
        }
    }

    static boolean isPid(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static long parseLong(byte[] bytes, int from, int to) {
        long value = 0;
        boolean negative = from < to && bytes[from] == '-';
        for (int i = negative ? from + 1 : from; i < to; i++) {
            int digit = bytes[i] - '0';
            if (digit < 0 || digit > 9) {
                return -1;
            }
            value = value * 10 + digit;
        }
        return negative ? -value : value;
    }

    private static int indexOf(byte[] bytes, int length, byte b) {
        for (int i = 0; i < length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static int lastIndexOf(byte[] bytes, int length, byte b) {
        for (int i = length - 1; i >= 0; i--) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
