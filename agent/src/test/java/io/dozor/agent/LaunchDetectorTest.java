package io.dozor.agent;

import static io.dozor.agent.FakeProcessSource.process;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LaunchDetectorTest {

    private final FakeProcessSource source = new FakeProcessSource()
            .start(process(1, 0, "init", "SYSTEM", 0))
            .start(process(100, 0, "explorer.exe", "ivanov"));

    private final LaunchDetector detector =
            new LaunchDetector(List.of("chrome", "telegram.exe", "explorer"), AgentConfig.DEFAULT_EXCLUDE_USERS, false);

    private List<ProcessInfo> poll() {
        return detector.detect(source.snapshot());
    }

    private static List<Long> pids(List<ProcessInfo> launches) {
        return launches.stream().map(ProcessInfo::pid).toList();
    }

    @Test
    void processesRunningAtTheFirstSnapshotAreNotLaunches() {
        source.start(process(200, 1, "chrome.exe", "ivanov"));

        assertThat(poll()).isEmpty();
        assertThat(poll()).isEmpty();
    }

    @Test
    void processesRunningAtTheFirstSnapshotAreReportedWhenAskedTo() {
        LaunchDetector reporting = new LaunchDetector(List.of("chrome"), List.of("SYSTEM"), true);
        source.start(process(200, 1, "chrome.exe", "ivanov"));

        assertThat(pids(reporting.detect(source.snapshot()))).containsExactly(200L);
        assertThat(reporting.detect(source.snapshot())).isEmpty();
    }

    @Test
    void aNewWatchedProcessIsReportedOnceAcrossPolls() {
        poll();
        ProcessInfo chrome = process(200, 5, "chrome.exe", "ivanov", 100);
        source.start(chrome);

        assertThat(poll()).containsExactly(chrome);
        assertThat(poll()).isEmpty();
        assertThat(poll()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"chrome", "chrome.exe", "Chrome.EXE", "CHROME", "Telegram", "telegram.exe"})
    void namesMatchIgnoringCaseWithExeOptional(String name) {
        poll();
        source.start(process(200, 5, name, "ivanov"));

        assertThat(pids(poll())).containsExactly(200L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"notepad.exe", "chromedriver.exe", "chrome.exe.bak", "xchrome"})
    void unwatchedProcessesAreIgnored(String name) {
        poll();
        source.start(process(200, 5, name, "ivanov"));

        assertThat(poll()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"SYSTEM", "system", "NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\LOCAL SERVICE", "network service"})
    void launchesOfExcludedUsersAreIgnored(String user) {
        poll();
        source.start(process(200, 5, "chrome.exe", user));

        assertThat(poll()).isEmpty();
    }

    @Test
    void aDomainUserIsNotMistakenForAnExcludedOne() {
        poll();
        source.start(process(200, 5, "chrome.exe", "CORP\\ivanov"));

        assertThat(pids(poll())).containsExactly(200L);
    }

    @Test
    void launchesOfAnUnknownUserAreIgnored() {
        poll();
        source.start(process(200, 5, "chrome.exe", null));

        assertThat(poll()).isEmpty();
    }

    @Test
    void aReusedPidWithAnotherStartTimeIsANewLaunch() {
        source.start(process(200, 1, "chrome.exe", "ivanov"));
        poll();
        source.exit(200).start(process(200, 9, "chrome.exe", "petrov"));

        List<ProcessInfo> launches = poll();

        assertThat(launches)
                .extracting(ProcessInfo::pid, ProcessInfo::user)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(200L, "petrov"));
    }

    @Test
    void aProcessSeenBeforeItsExecIsReportedUnderItsNewName() {
        source.start(process(500, 1, "java", "ivanov"));
        poll();
        source.exit(500).start(process(500, 1, "chrome", "ivanov"));

        assertThat(pids(poll())).containsExactly(500L);
        assertThat(poll()).isEmpty();
    }

    @Test
    void aChildWithTheSameNameAsItsRunningParentIsNotALaunch() {
        poll();
        source.start(process(200, 5, "chrome.exe", "ivanov", 100));
        assertThat(pids(poll())).containsExactly(200L);

        source.start(process(201, 6, "chrome.exe", "ivanov", 200)).start(process(202, 6, "Chrome.exe", "ivanov", 200));

        assertThat(poll()).isEmpty();
    }

    @Test
    void parentAndSameNameChildStartedBetweenTwoPollsAreOneLaunch() {
        poll();
        source.start(process(200, 5, "chrome.exe", "ivanov", 100)).start(process(201, 5, "chrome.exe", "ivanov", 200));

        assertThat(pids(poll())).containsExactly(200L);
    }

    @Test
    void aChildOfAnotherProgramIsALaunch() {
        poll();
        source.start(process(300, 5, "telegram.exe", "ivanov", 100))
                .start(process(301, 6, "chrome.exe", "ivanov", 300));

        assertThat(pids(poll())).containsExactly(300L, 301L);
    }

    @Test
    void aParentPidReusedAfterTheChildStartedDoesNotHideTheLaunch() {
        poll();
        // the real parent (pid 400) exited; an unrelated chrome later got pid 400
        source.start(process(400, 9, "chrome.exe", "ivanov", 100)).start(process(401, 5, "chrome.exe", "ivanov", 400));

        assertThat(pids(poll())).containsExactlyInAnyOrder(400L, 401L);
    }

    @Test
    void normalisesNamesAndUsers() {
        assertThat(LaunchDetector.normaliseName("Chrome.EXE")).isEqualTo("chrome");
        assertThat(LaunchDetector.normaliseName("browser")).isEqualTo("browser");
        assertThat(LaunchDetector.normaliseUser("NT AUTHORITY\\Network Service"))
                .isEqualTo("network service");
        assertThat(LaunchDetector.userName("CORP\\ivanov")).isEqualTo("ivanov");
        assertThat(LaunchDetector.userName("ivanov")).isEqualTo("ivanov");
    }

    @Test
    void aProcessInSessionZeroIsNotALaunch() {
        poll();
        source.start(new ProcessInfo(
                200, FakeProcessSource.T0.plusSeconds(5), "chrome.exe", "C:\\chrome.exe", "ivanov", 100, 0));
        source.start(new ProcessInfo(
                201, FakeProcessSource.T0.plusSeconds(5), "chrome.exe", "C:\\chrome.exe", "ivanov", 100, 1));

        assertThat(pids(poll())).containsExactly(201L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SYSTEM", "NT AUTHORITY\\LOCAL SERVICE", "nt authority\\network service"})
    void serviceAccountsAreExcludedEvenWhenExcludeUsersNamesOthers(String user) {
        LaunchDetector onlyBob = new LaunchDetector(List.of("chrome"), List.of("bob"), false);
        onlyBob.detect(source.snapshot());
        source.start(process(200, 5, "chrome.exe", user, 100));
        source.start(process(201, 5, "chrome.exe", "bob", 100));
        source.start(process(202, 5, "chrome.exe", "alice", 100));

        assertThat(pids(onlyBob.detect(source.snapshot()))).containsExactly(202L);
    }

    @Test
    void anExcludedNameIsNotALaunchEvenWhenWatched() {
        LaunchDetector detector = new LaunchDetector(
                LaunchDetector.Filter.of(List.of("chrome", "explorer"), List.of(), List.of("Explorer.EXE"), List.of()),
                false);
        detector.detect(source.snapshot());
        source.start(process(200, 5, "explorer.exe", "ivanov", 1));
        source.start(process(201, 5, "chrome.exe", "ivanov", 1));

        assertThat(pids(detector.detect(source.snapshot()))).containsExactly(201L);
    }

    @Test
    void anExecutableUnderAnExcludedPathIsNotALaunch() {
        LaunchDetector detector = new LaunchDetector(
                LaunchDetector.Filter.of(List.of("chrome"), List.of(), List.of(), List.of("c:\\Kiosk\\")), false);
        detector.detect(source.snapshot());
        source.start(new ProcessInfo(
                200, FakeProcessSource.T0.plusSeconds(5), "chrome.exe", "C:\\KIOSK\\bin\\chrome.exe", "ivanov", 1));
        source.start(new ProcessInfo(
                201, FakeProcessSource.T0.plusSeconds(5), "chrome.exe", "C:\\Kiosk2\\chrome.exe", "ivanov", 1));
        source.start(new ProcessInfo(
                202, FakeProcessSource.T0.plusSeconds(5), "chrome.exe", "C:\\Program Files\\chrome.exe", "ivanov", 1));

        assertThat(pids(detector.detect(source.snapshot()))).containsExactly(201L, 202L);
    }

    @Test
    void aNewWatchListAppliesFromTheNextPoll() {
        poll();
        detector.reconfigure(LaunchDetector.Filter.of(List.of("notepad"), List.of(), List.of(), List.of()));
        source.start(process(200, 5, "chrome.exe", "ivanov", 100));
        source.start(process(201, 5, "notepad.exe", "ivanov", 100));

        assertThat(pids(poll())).containsExactly(201L);
        assertThat(detector.isWatchedName("CHROME.exe")).isFalse();
    }

    @Test
    void aReusedPidIsReportedAgainEachTimeButNeverRepeated() {
        poll();
        for (int start = 10; start < 40; start += 10) {
            source.exit(300).start(process(300, start, "chrome.exe", "ivanov", 100));
            assertThat(poll())
                    .extracting(ProcessInfo::startTime)
                    .containsExactly(FakeProcessSource.T0.plusSeconds(start));
            assertThat(poll()).isEmpty();
        }
    }
}
