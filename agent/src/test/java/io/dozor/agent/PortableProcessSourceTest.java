package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

class PortableProcessSourceTest {

    private static final String STAT = """
            cpu  1 2 3 4
            intr 12345
            btime 1700000000
            processes 42
            """;

    @Test
    void correctionIsTheFractionOfTheBootSecondThatBtimeDrops() {
        // booted at 1700000000.37: uptime 100.00 s when the wall clock says 1700000100.37
        Instant now = Instant.ofEpochSecond(1_700_000_100L, 370_000_000);

        Duration correction = PortableProcessSource.bootTimeCorrection("100.00 180.50\n", STAT, now);

        assertThat(correction).isEqualTo(Duration.ofMillis(370));
    }

    @Test
    void correctionIsExactWithoutFloatingPointErrors() {
        Instant now = Instant.ofEpochSecond(1_700_012_345L, 680_000_000);

        assertThat(PortableProcessSource.bootTimeCorrection("12345.67 1.00", STAT, now))
                .isEqualTo(Duration.ofMillis(10));
    }

    @Test
    void correctionSlightlyAboveOneSecondIsClampedBelowOneSecond() {
        // the 10 ms resolution of uptime can push the estimate just past the next whole second
        Instant now = Instant.ofEpochSecond(1_700_000_101L, 5_000_000);

        assertThat(PortableProcessSource.bootTimeCorrection("100.00 0", STAT, now))
                .isEqualTo(Duration.ofMillis(999));
    }

    @Test
    void correctionSlightlyBelowZeroIsZero() {
        Instant now = Instant.ofEpochSecond(1_700_000_099L, 990_000_000);

        assertThat(PortableProcessSource.bootTimeCorrection("100.00 0", STAT, now))
                .isZero();
    }

    @Test
    void inconsistentInputsGiveNoCorrection() {
        // the clock moved by minutes between boot and now: not a rounding issue, leave the JDK's value
        Instant now = Instant.ofEpochSecond(1_700_000_400L);

        assertThat(PortableProcessSource.bootTimeCorrection("100.00 0", STAT, now))
                .isZero();
    }

    @Test
    void parsesSecondsWithAnyNumberOfDecimals() {
        assertThat(PortableProcessSource.parseSeconds("12.5")).isEqualTo(Duration.ofMillis(12_500));
        assertThat(PortableProcessSource.parseSeconds("12.05")).isEqualTo(Duration.ofMillis(12_050));
        assertThat(PortableProcessSource.parseSeconds("12")).isEqualTo(Duration.ofSeconds(12));
    }

    @Test
    void fileNameIsTheLastPathElementForEitherSeparator() {
        assertThat(PortableProcessSource.fileName("C:\\Program Files\\Google\\chrome.exe"))
                .isEqualTo("chrome.exe");
        assertThat(PortableProcessSource.fileName("/usr/bin/chrome")).isEqualTo("chrome");
        assertThat(PortableProcessSource.fileName("chrome")).isEqualTo("chrome");
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void seesARealChildProcessWithItsNameUserAndPreciseStartTime(@TempDir Path dir) throws Exception {
        seesARealChild(new PortableProcessSource(), dir, (child, seen) -> {});
    }

    /** What a test of a real source checks too, with the child running and what the source saw. */
    interface WhileRunning {
        void check(Process child, ProcessInfo seen) throws Exception;
    }

    /**
     * Starts a copy of {@code sleep} named {@code chrome}: {@code source} sees it, once exec'd, as
     * {@code chrome} of this user started within a tick or two of its real start, and a detector over
     * {@code source} reports it exactly once.
     */
    static void seesARealChild(ProcessSource source, Path dir, WhileRunning more) throws Exception {
        Path chrome = dir.resolve("chrome");
        Files.copy(Path.of("/bin/sleep"), chrome);
        chrome.toFile().setExecutable(true);
        LaunchDetector detector = new LaunchDetector(List.of("chrome"), List.of(), false);
        assertThat(detector.detect(source.snapshot()))
                .noneMatch(p -> chrome.toString().equals(p.executable()));

        Instant before = Instant.now();
        Process child = new ProcessBuilder(chrome.toString(), "30").start();
        try {
            ProcessInfo seen = awaitExec(source, child.pid(), chrome);
            assertThat(seen.name()).isEqualTo("chrome");
            assertThat(seen.user()).isEqualTo(System.getProperty("user.name"));
            // the JDK alone can be up to 1 s early; corrected, the error is a tick (10 ms) or two
            assertThat(seen.startTime())
                    .isAfterOrEqualTo(before.minusMillis(30))
                    .isBefore(before.plusSeconds(1));

            List<ProcessInfo> launches = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                launches.addAll(detector.detect(source.snapshot()));
            }
            assertThat(launches).filteredOn(p -> p.pid() == child.pid()).hasSize(1);
            more.check(child, seen);
        } finally {
            child.destroyForcibly().waitFor();
        }
    }

    /** The child shows its own executable only once the spawn helper has exec'd it. */
    static ProcessInfo awaitExec(ProcessSource source, long pid, Path executable) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(10);
        while (Instant.now().isBefore(deadline)) {
            Optional<ProcessInfo> p = source.snapshot().stream()
                    .filter(i -> i.pid() == pid && executable.toString().equals(i.executable()))
                    .findFirst();
            if (p.isPresent()) {
                return p.get();
            }
            Thread.sleep(10);
        }
        throw new AssertionError("child " + pid + " not seen as " + executable);
    }

    @Test
    void theProcStampIsTheNameAndStartTicksSoReuseAndExecChangeIt() {
        String stat = "4312 (chrome helper) S 1 4312 4312 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 12345 300";

        assertThat(PortableProcessSource.stamp(stat)).isEqualTo("(chrome helper) 987654");
        assertThat(PortableProcessSource.stamp(stat.replace("987654", "987999")))
                .isNotEqualTo(PortableProcessSource.stamp(stat));
        assertThat(PortableProcessSource.stamp(stat.replace("(chrome helper)", "(sleep)")))
                .isNotEqualTo(PortableProcessSource.stamp(stat));
        assertThat(PortableProcessSource.stamp("garbage")).isNull();
    }

    @Test
    void aSecondSnapshotStillSeesEveryProcessAndANewOne() throws Exception {
        PortableProcessSource source = new PortableProcessSource();
        source.snapshot();
        Process child = new ProcessBuilder("sleep", "30").start();
        try {
            java.util.List<ProcessInfo> second = source.snapshot();
            assertThat(second)
                    .extracting(ProcessInfo::pid)
                    .contains(ProcessHandle.current().pid(), child.pid());
            assertThat(second)
                    .filteredOn(p -> p.pid() == child.pid())
                    .extracting(ProcessInfo::name)
                    .containsExactly("sleep");
        } finally {
            child.destroy();
        }
    }
}
