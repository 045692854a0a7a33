package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** Against a fake {@code /proc} tree (same layout, in a temp dir), and once against the real one. */
class LinuxProcSourceTest {

    private static final Instant BOOT = Instant.parse("2026-11-27T06:00:00.370Z");
    private static final String ME = System.getProperty("user.name");

    @TempDir
    Path proc;

    LinuxProcSource source;

    @BeforeEach
    void setUp() {
        source = new LinuxProcSource(proc, BOOT);
    }

    /** A /proc/<pid> with a stat (fields up to starttime and a few more), an exe link and a cmdline. */
    private void process(long pid, String comm, long parent, long startTicks, String exe, String... argv)
            throws IOException {
        process(pid, comm, parent, startTicks, 0x400100, exe, argv);
    }

    private void process(long pid, String comm, long parent, long startTicks, long flags, String exe, String... argv)
            throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Long.toString(pid)));
        Files.writeString(
                dir.resolve("stat"),
                pid + " (" + comm + ") S " + parent + " " + pid + " " + pid + " 0 -1 " + flags
                        + " 100 0 0 0 5 3 0 0 20 0 1 0 " + startTicks + " 12345678 300 18446744073709551615\n");
        Files.deleteIfExists(dir.resolve("exe"));
        if (exe != null) {
            Files.createSymbolicLink(dir.resolve("exe"), Path.of(exe));
        }
        Files.writeString(dir.resolve("cmdline"), argv.length == 0 ? "" : String.join("\0", argv) + "\0");
    }

    private void exit(long pid) throws IOException {
        Path dir = proc.resolve(Long.toString(pid));
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    private ProcessInfo only(long pid) {
        List<ProcessInfo> matching =
                source.snapshot().stream().filter(p -> p.pid() == pid).toList();
        assertThat(matching).hasSize(1);
        return matching.get(0);
    }

    @Test
    void readsNameExecutableOwnerParentAndStartTime() throws IOException {
        process(1, "systemd", 0, 3, "/usr/lib/systemd/systemd", "/sbin/init");
        process(4312, "chrome", 1, 987_654, "/opt/google/chrome/chrome", "/opt/google/chrome/chrome", "--flag");

        assertThat(only(4312))
                .isEqualTo(new ProcessInfo(
                        4312, BOOT.plusMillis(9_876_540), "chrome", "/opt/google/chrome/chrome", ME, 1));
        assertThat(only(1).parentPid()).isEqualTo(-1);
    }

    @Test
    void leavesOutKernelThreadsOtherEntriesAndMalformedStats() throws IOException {
        process(2, "kthreadd", 0, 0, 0x208040, null);
        process(77, "kworker/0:1-events", 2, 50, 0x4208060, null);
        process(100, "bash", 1, 500, "/usr/bin/bash", "bash");
        Files.createDirectories(proc.resolve("self"));
        Files.createDirectories(proc.resolve("sys"));
        Files.writeString(proc.resolve("uptime"), "100.00 180.00\n");
        Files.createDirectories(proc.resolve("200"));
        Files.writeString(proc.resolve("200/stat"), "garbage");

        assertThat(source.snapshot()).extracting(ProcessInfo::pid).containsExactly(100L);
    }

    @Test
    void aCommWithSpacesAndParenthesesIsParsed() throws IOException {
        process(300, "Web (Content) x", 1, 700, "/usr/lib/firefox/firefox", "firefox");

        assertThat(only(300).startTime()).isEqualTo(BOOT.plusSeconds(7));
        assertThat(only(300).name()).isEqualTo("firefox");
    }

    @Test
    void aKnownPidIsNotReadAgainAndAnUnchangedTableIsTheSameList() throws IOException {
        process(100, "chrome", 1, 500, "/opt/chrome/chrome", "chrome");
        List<ProcessInfo> first = source.snapshot();
        // only stat is read for a known pid: a changed link with the same stat goes unnoticed
        process(100, "chrome", 1, 500, "/somewhere/else/chrome", "chrome");

        List<ProcessInfo> second = source.snapshot();

        assertThat(second).isSameAs(first);
        assertThat(second.get(0).executable()).isEqualTo("/opt/chrome/chrome");
    }

    @Test
    void anExecIsReadAgainAndDetectedUnderItsNewName() throws IOException {
        LaunchDetector detector = new LaunchDetector(List.of("chrome"), List.of(), false);
        process(100, "bash", 1, 500, "/usr/bin/bash", "bash");
        detector.detect(source.snapshot());
        // forked from a shell and caught before the exec: a new pid still named like its parent
        process(101, "bash", 100, 600, "/usr/bin/bash", "bash");
        assertThat(detector.detect(source.snapshot())).isEmpty();

        process(101, "chrome", 100, 600, "/opt/chrome/chrome", "/opt/chrome/chrome");
        List<ProcessInfo> launches = detector.detect(source.snapshot());

        assertThat(launches)
                .extracting(ProcessInfo::pid, ProcessInfo::name, ProcessInfo::executable)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(101L, "chrome", "/opt/chrome/chrome"));
    }

    @Test
    void aReusedPidIsAnotherProcess() throws IOException {
        process(100, "chrome", 1, 500, "/opt/chrome/chrome", "chrome");
        ProcessInfo before = only(100);
        process(100, "chrome", 1, 900, "/opt/chrome/chrome", "chrome");

        ProcessInfo after = only(100);

        assertThat(after.startTime()).isEqualTo(BOOT.plusSeconds(9));
        assertThat(after.key()).isNotEqualTo(before.key());
    }

    @Test
    void anExitedPidLeavesTheSnapshot() throws IOException {
        process(100, "bash", 1, 500, "/usr/bin/bash", "bash");
        process(101, "chrome", 100, 600, "/opt/chrome/chrome", "chrome");
        assertThat(source.snapshot()).hasSize(2);

        exit(101);

        assertThat(source.snapshot()).extracting(ProcessInfo::pid).containsExactly(100L);
        assertThat(source.held()).as("the exited pid's stat file is closed").isEqualTo(1);
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void onTheRealProcAHeldStatFileFollowsItsProcessUntilItExits() throws Exception {
        LinuxProcSource real = LinuxProcSource.create();
        Process child = new ProcessBuilder("sleep", "60").start();
        try {
            assertThat(real.snapshot()).extracting(ProcessInfo::pid).contains(child.pid());
            int held = real.held();
            assertThat(held)
                    .as("one held file per process and kernel thread")
                    .isPositive()
                    .isLessThanOrEqualTo(LinuxProcSource.MAX_HELD);
            assertThat(real.snapshot()).extracting(ProcessInfo::pid).contains(child.pid());

            child.destroyForcibly().waitFor();

            assertThat(real.snapshot()).extracting(ProcessInfo::pid).doesNotContain(child.pid());
            try (var fds = Files.list(Path.of("/proc/self/fd"))) {
                assertThat(fds.count())
                        .as("no file left open beyond the held ones")
                        .isLessThan(real.held() + 200);
            }
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void anUnreadableExeIsNamedAfterArgvZeroElseComm() throws IOException {
        process(100, "chrome", 1, 500, null, "/opt/google/chrome/chrome", "--type=renderer");
        process(101, "chrome", 100, 600, null, "/opt/google/chrome/chrome --type=renderer --lang=en");
        process(102, "zombie-thing", 1, 700, null);

        assertThat(only(100))
                .extracting(ProcessInfo::name, ProcessInfo::executable)
                .containsExactly("chrome", null);
        assertThat(only(101).name()).isEqualTo("chrome");
        assertThat(only(102).name()).isEqualTo("zombie-thing");
    }

    @Test
    void aDeletedExecutableKeepsItsPath() throws IOException {
        process(100, "chrome", 1, 500, "/opt/chrome/chrome (deleted)", "chrome");

        assertThat(only(100))
                .extracting(ProcessInfo::name, ProcessInfo::executable)
                .containsExactly("chrome", "/opt/chrome/chrome");
    }

    @Test
    void theBootTimeIsBtimePlusTheFractionFromUptime() throws IOException {
        long btime = Instant.now().minusSeconds(100).getEpochSecond();
        Files.writeString(proc.resolve("stat"), "cpu 1 2 3\nbtime " + btime + "\n");
        Files.writeString(proc.resolve("uptime"), "100.00 5.00\n");
        process(1, "systemd", 0, 3, "/usr/lib/systemd/systemd", "/sbin/init");

        Instant boot = LinuxProcSource.create(proc).bootTime();

        assertThat(boot)
                .isBetween(
                        Instant.ofEpochSecond(btime),
                        Instant.ofEpochSecond(btime).plusMillis(999));
        assertThat(LinuxProcSource.create(proc.resolve("missing"))).isNull();
    }

    @Test
    void onlyNumericNamesArePids() {
        assertThat(LinuxProcSource.isPid("4312")).isTrue();
        assertThat(LinuxProcSource.isPid("self")).isFalse();
        assertThat(LinuxProcSource.isPid("")).isFalse();
        assertThat(LinuxProcSource.isPid("12a")).isFalse();
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void onTheRealProcItSeesAChildAndAgreesWithTheJdk(@TempDir Path dir) throws Exception {
        LinuxProcSource real = LinuxProcSource.create();
        assertThat(real).isNotNull();

        PortableProcessSourceTest.seesARealChild(real, dir, (child, seen) -> {
            assertThat(seen.parentPid()).isEqualTo(ProcessHandle.current().pid());
            // the same process through the JDK: same name, executable, user, parent; start within a tick or two
            ProcessInfo jdk = PortableProcessSourceTest.awaitExec(
                    new PortableProcessSource(), child.pid(), Path.of(seen.executable()));
            assertThat(jdk)
                    .usingRecursiveComparison()
                    .ignoringFields("startTime")
                    .isEqualTo(seen);
            assertThat(jdk.startTime()).isCloseTo(seen.startTime(), within(30, ChronoUnit.MILLIS));
        });
    }
}
