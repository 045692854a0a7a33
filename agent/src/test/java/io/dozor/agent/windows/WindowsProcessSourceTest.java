package io.dozor.agent.windows;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dozor.agent.LaunchDetector;
import io.dozor.agent.ProcessInfo;
import io.dozor.agent.windows.WindowsApi.WindowsException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.slf4j.LoggerFactory;

class WindowsProcessSourceTest {

    static final Instant T0 = Instant.parse("2026-11-27T07:00:00Z");

    private final FakeWindowsApi api = new FakeWindowsApi()
            .unreadable(440, WindowsException.ERROR_ACCESS_DENIED) // a protected process
            .start(600, "C:\\Windows\\explorer.exe", T0, "PC-01\\ivanov", 1, 500);
    private final WindowsProcessSource source = new WindowsProcessSource(api);
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(WindowsProcessSource.class);

    @BeforeEach
    void captureLogs() {
        logs.start();
        logger.addAppender(logs);
        logger.setLevel(Level.DEBUG);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(logs);
        logger.setLevel(null);
    }

    @Test
    void readsImageStartTimeUserSessionAndParentOfANewProcess() {
        assertThat(source.snapshot())
                .containsExactly(
                        new ProcessInfo(600, T0, "explorer.exe", "C:\\Windows\\explorer.exe", "PC-01\\ivanov", 500, 1));
    }

    @Test
    void opensOnlyPidsNotSeenBefore() {
        source.watch(name -> false);
        source.snapshot();
        api.queried.clear();
        api.start(700, "C:\\Apps\\chrome.exe", T0.plusSeconds(5), "ivanov", 1, 600);

        List<ProcessInfo> second = source.snapshot();
        source.snapshot();

        assertThat(api.queried).containsExactly(700);
        assertThat(second).extracting(ProcessInfo::pid).containsExactlyInAnyOrder(600L, 700L);
    }

    @Test
    void takesTheParentSnapshotOnlyWhenThereAreNewPids() {
        source.watch(name -> false);
        source.snapshot();
        source.snapshot();
        source.snapshot();

        assertThat(api.parentSnapshots).isEqualTo(1);
    }

    @Test
    void skipsAnAccessDeniedProcessWithADebugLineAndDoesNotRetryIt() {
        source.watch(name -> false);
        assertThat(source.snapshot()).extracting(ProcessInfo::pid).containsExactly(600L);
        source.snapshot();

        assertThat(api.queried.stream().filter(pid -> pid == 440)).hasSize(1);
        assertThat(logs.list)
                .filteredOn(e -> e.getFormattedMessage().contains("pid=440"))
                .extracting(ILoggingEvent::getLevel)
                .containsExactly(Level.DEBUG);
    }

    @Test
    void aProcessThatExitedBeforeItWasReadIsLeftOutAndNotRemembered() {
        source.watch(name -> false);
        source.snapshot();
        api.unreadable(800, WindowsException.ERROR_INVALID_PARAMETER);
        assertThat(source.snapshot()).extracting(ProcessInfo::pid).containsExactly(600L);

        api.exit(800).start(800, "C:\\Apps\\chrome.exe", T0.plusSeconds(9), "ivanov", 1, 600);

        assertThat(source.snapshot()).extracting(ProcessInfo::pid).containsExactlyInAnyOrder(600L, 800L);
    }

    @Test
    void theIdleAndSystemPidsAreNeverOpenedAndForceNoSnapshots() {
        FakeWindowsApi fake = new FakeWindowsApi()
                .unreadable(0, WindowsException.ERROR_INVALID_PARAMETER) // what OpenProcess(0) answers
                .unreadable(4, WindowsException.ERROR_ACCESS_DENIED)
                .start(600, "C:\\Windows\\explorer.exe", T0, "PC-01\\ivanov", 1, 500);
        WindowsProcessSource s = new WindowsProcessSource(fake);
        s.watch(name -> false);

        for (int i = 0; i < 5; i++) {
            assertThat(s.snapshot()).extracting(ProcessInfo::pid).containsExactly(600L);
        }

        assertThat(fake.queried).containsExactly(600);
        assertThat(fake.parentSnapshots).isEqualTo(1);
    }

    @Test
    void aListedPidThatKeepsLookingGoneIsNotNewForEver() {
        source.watch(name -> false);
        source.snapshot();
        api.unreadable(800, WindowsException.ERROR_INVALID_PARAMETER); // listed, but OpenProcess says gone
        int snapshotsBefore = api.parentSnapshots;

        for (int i = 0; i < 10; i++) {
            source.snapshot();
        }

        int reads = 1 + WindowsProcessSource.GONE_RETRIES;
        assertThat(api.queried.stream().filter(pid -> pid == 800)).hasSize(reads);
        assertThat(api.parentSnapshots - snapshotsBefore).isEqualTo(reads);
    }

    @Test
    void aPidLeftAloneAfterLookingGoneIsReadAgainOnceItLeftTheList() {
        source.watch(name -> false);
        api.unreadable(800, WindowsException.ERROR_INVALID_PARAMETER);
        for (int i = 0; i < 5; i++) {
            source.snapshot();
        }
        api.exit(800);
        source.snapshot();
        api.start(800, "C:\\Apps\\chrome.exe", T0.plusSeconds(60), "ivanov", 1, 600);

        assertThat(source.snapshot()).extracting(ProcessInfo::pid).containsExactlyInAnyOrder(600L, 800L);
    }

    @Test
    void aPidThatLeftTheListAndCameBackIsReadAgain() {
        source.watch(name -> false);
        source.snapshot();
        api.exit(600);
        source.snapshot();
        api.start(600, "C:\\Apps\\Telegram.exe", T0.plusSeconds(30), "petrov", 1, 1);

        assertThat(source.snapshot()).extracting(ProcessInfo::name).containsExactly("Telegram.exe");
    }

    @Test
    void aWatchedPidReusedBetweenTwoPollsIsANewLaunch() {
        LaunchDetector detector = new LaunchDetector(List.of("chrome"), List.of(), false);
        source.watch(detector::isWatchedName);
        api.start(700, "C:\\Apps\\chrome.exe", T0.plusSeconds(5), "ivanov", 1, 600);
        detector.detect(source.snapshot());

        // chrome 700 exits and a new chrome gets pid 700 before the next poll
        api.exit(700).start(700, "C:\\Apps\\chrome.exe", T0.plusSeconds(6), "ivanov", 1, 600);

        assertThat(detector.detect(source.snapshot()))
                .extracting(ProcessInfo::startTime)
                .containsExactly(T0.plusSeconds(6));
        assertThat(detector.detect(source.snapshot())).isEmpty();
    }

    @Test
    void watchedProcessesAreRecheckedByTheirStartTimeAloneNotAFullRead() {
        source.watch(name -> name.equalsIgnoreCase("explorer.exe"));
        source.snapshot();
        api.queried.clear();

        source.snapshot();
        source.snapshot();

        assertThat(api.queried).isEmpty(); // no token or account lookup per poll
        assertThat(api.startTimesRead).containsExactly(600, 600);
    }

    @Test
    void sessionZeroAndSystemProcessesFromWindowsAreNotLaunches() {
        LaunchDetector detector = new LaunchDetector(List.of("chrome"), List.of(), false);
        detector.detect(source.snapshot());
        api.start(900, "C:\\Apps\\chrome.exe", T0.plusSeconds(5), "ivanov", 0, 600);
        api.start(901, "C:\\Apps\\chrome.exe", T0.plusSeconds(5), "NT AUTHORITY\\SYSTEM", 1, 600);
        api.start(902, "C:\\Apps\\chrome.exe", T0.plusSeconds(5), "PC-01\\ivanov", 1, 600);

        assertThat(detector.detect(source.snapshot()))
                .extracting(ProcessInfo::pid)
                .containsExactly(902L);
    }

    @Test
    void convertsAFileTimeToAnInstant() {
        // 2026-11-27T07:00:00.1234567Z in 100 ns ticks since 1601
        long ticks = (T0.getEpochSecond() + 11_644_473_600L) * 10_000_000L + 1_234_567L;

        assertThat(WindowsProcessSource.fileTimeToInstant(ticks)).isEqualTo(T0.plusNanos(123_456_700));
    }

    @Test
    @EnabledOnOs(OS.WINDOWS)
    void theRealApiSeesThisJvmWithItsStartTimeAndUser() {
        long self = ProcessHandle.current().pid();
        ProcessInfo me = WindowsProcessSource.create().snapshot().stream()
                .filter(p -> p.pid() == self)
                .findFirst()
                .orElseThrow();

        assertThat(me.name()).endsWithIgnoringCase("java.exe");
        assertThat(me.user()).endsWith(System.getProperty("user.name"));
        assertThat(java.time.Duration.between(
                                me.startTime(),
                                ProcessHandle.current().info().startInstant().orElseThrow())
                        .abs())
                .isLessThan(java.time.Duration.ofSeconds(1));
    }
}
