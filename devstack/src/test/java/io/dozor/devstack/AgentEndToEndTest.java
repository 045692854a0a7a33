package io.dozor.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dozor.testkit.ProcessLogs;
import io.dozor.testkit.Unprivileged;
import io.dozor.testkit.Wait;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Verifies the agent's launch semantics and its durability with the real jars, PostgreSQL and
 * Elasticsearch: each test uses its own program name, so rows of one test never count for another.
 */
@EnabledOnOs(OS.LINUX)
class AgentEndToEndTest {
    static final String AGENT_ID = "e2e-agent-semantics";
    static final String OTHER_USER = "dozor-e2e-user";
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final Pattern DROPPED = Pattern.compile("spool full, dropped the oldest event");

    static Path bin;

    @RegisterExtension
    static final RunningStack system = RunningStack.in("agent-e2e")
            .agent(AGENT_ID, "killed, browser, telegram, explorer, reused", 200)
            .agentSetting("monitor.exclude_users", OTHER_USER)
            .agentSetting("server.heartbeat_interval_s", "1")
            .agentSetting("spool.max_mb", "0.002") // about nine events of this test's size: five fit, fourteen do not
            .after(() -> ProcessLogs.deleteRecursively(bin))
            .build();

    final List<Process> launched = new ArrayList<>();

    @BeforeAll
    static void programsEveryUserCanRun() throws IOException {
        // programs in a directory every user can read, so that another user can run them
        bin = Files.createTempDirectory(
                "dozor-e2e-bin", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }

    @AfterEach
    void stopPrograms() {
        Stack stack = system.stack();
        launched.forEach(Process::destroyForcibly);
        if (!stack.isRunning()) {
            stack.restartServer();
        }
    }

    /** A copy of {@code original} named {@code name}, started with {@code args}. */
    Process launch(String original, String name, List<String> wrapper, String... args) throws IOException {
        Path exe = bin.resolve(name);
        if (!Files.exists(exe)) {
            Files.copy(Path.of(original), exe);
            Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        List<String> command = new ArrayList<>(wrapper);
        command.add(exe.toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        launched.add(p);
        return p;
    }

    Process sleeper(String name) throws IOException {
        return launch("/bin/sleep", name, List.of(), "60");
    }

    static List<Map<String, Object>> rows(String processName) {
        return system.db()
                .query(
                        "SELECT event_id, \"timestamp\", username, pid FROM events WHERE process_name = $1 "
                                + "ORDER BY id",
                        processName);
    }

    static String agentLog() {
        try {
            return Files.readString(system.stack().agentLog(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static boolean detected(String name, long pid) {
        return agentLog().contains("process=" + name + ", pid=" + pid + ",");
    }

    static long count(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        long n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** Two polls later: a launch that was going to be reported has been. */
    static void twoMorePolls() {
        Instant later = Instant.now().plusMillis(1000);
        Wait.until("a few polls", Duration.ofSeconds(5), () -> Instant.now().isAfter(later));
    }

    @Test
    void aProgramWithTwoSameNameChildrenIsOneLaunch() throws Exception {
        // bash named "browser" starting two more "browser"s (like Chrome's or Yandex Browser's helpers)
        Process browser = launch(
                "/bin/bash",
                "browser",
                List.of(),
                "-c",
                "\"$0\" -c 'sleep 60; true' & \"$0\" -c 'sleep 60; true' & wait");
        Wait.until(
                "both children",
                TIMEOUT,
                () -> browser.descendants()
                                .filter(d -> d.info().command().orElse("").endsWith("/browser"))
                                .count()
                        == 2);
        Wait.until("a row for the browser", TIMEOUT, () -> !rows("browser").isEmpty());
        twoMorePolls();

        assertThat(rows("browser")).extracting(r -> r.get("pid")).containsExactly(browser.pid());
    }

    @Test
    void aLaunchByAnExcludedUserGivesNoRow() throws Exception {
        assumeTrue(Unprivileged.isRoot(), "running a program as another user needs root");
        String user = Unprivileged.ensureUser(OTHER_USER);
        Process excluded = launch("/bin/sleep", "telegram", Unprivileged.wrap(List.of(), user), "60");
        Wait.until(
                "the excluded launch running as " + user,
                TIMEOUT,
                () -> excluded.info().user().orElse("").equals(user)
                        && excluded.info().command().orElse("").endsWith("telegram"));
        Process mine = sleeper("telegram");

        Wait.until(
                "a row for the launch by root", TIMEOUT, () -> !rows("telegram").isEmpty());
        twoMorePolls();

        assertThat(rows("telegram"))
                .extracting(r -> r.get("pid"), r -> r.get("username"))
                .containsExactly(org.assertj.core.groups.Tuple.tuple(mine.pid(), System.getProperty("user.name")));
    }

    @Test
    void launchesWhileTheServerIsDownSurviveAKilledAgentAndArriveOnce() throws Exception {
        Stack stack = system.stack();
        stack.stopServer();
        List<Long> pids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            pids.add(sleeper("killed").pid());
        }
        Wait.until("five launches spooled", TIMEOUT, () -> pids.stream().allMatch(pid -> detected("killed", pid)));

        stack.killAgent();
        stack.restartAgent();
        stack.restartServer();

        Wait.until("five rows", TIMEOUT, () -> rows("killed").size() >= 5);
        twoMorePolls();
        assertThat(rows("killed")).extracting(r -> r.get("pid")).containsExactlyInAnyOrderElementsOf(pids);
    }

    @Test
    void aReusedPidIsANewLaunchAndAnOldOneIsNotRepeated() throws Exception {
        assumeTrue(Unprivileged.isRoot(), "choosing the next pid (ns_last_pid) needs root");
        Process first = sleeper("reused");
        long pid = first.pid();
        Wait.until("a row for the first launch", TIMEOUT, () -> rows("reused").size() == 1);
        first.destroyForcibly().waitFor();
        twoMorePolls(); // the agent sees it gone

        Process second = null;
        for (int attempt = 0; attempt < 20 && second == null; attempt++) {
            Files.writeString(Path.of("/proc/sys/kernel/ns_last_pid"), Long.toString(pid - 1));
            Process p = sleeper("reused");
            if (p.pid() == pid) {
                second = p;
            } else {
                p.destroyForcibly().waitFor();
            }
        }
        assumeTrue(second != null, "could not get pid " + pid + " again (other processes took it)");

        Wait.until("a second row", TIMEOUT, () -> rows("reused").size() >= 2);
        twoMorePolls();
        List<Map<String, Object>> rows = rows("reused");
        assertThat(rows).extracting(r -> r.get("pid")).containsExactly(pid, pid);
        assertThat((OffsetDateTime) rows.get(1).get("timestamp"))
                .isAfter((OffsetDateTime) rows.get(0).get("timestamp"));
    }

    @Test
    void aFullSpoolDropsTheOldestAndTheServerLearnsHowMany() throws Exception {
        Stack stack = system.stack();
        Wait.until(
                "a first heartbeat",
                TIMEOUT,
                () -> !system.db()
                        .query("SELECT 1 FROM agents WHERE agent_id = $1 AND last_heartbeat IS NOT NULL", AGENT_ID)
                        .isEmpty());
        long droppedBefore = droppedEvents();
        long droppedLinesBefore = count(DROPPED, agentLog());
        stack.stopServer();
        List<Long> pids = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            pids.add(sleeper("explorer").pid());
        }
        Wait.until(
                "fourteen launches spooled", TIMEOUT, () -> pids.stream().allMatch(pid -> detected("explorer", pid)));
        // the first drop is logged; repeats of the same warning within a minute are only counted (RepeatedLogFilter)
        assertThat(count(DROPPED, agentLog()) - droppedLinesBefore).isPositive();

        stack.restartServer();

        Wait.until(
                "the kept events and a heartbeat with the drop count",
                TIMEOUT,
                () -> !rows("explorer").isEmpty() && rows("explorer").size() + droppedEvents() - droppedBefore == 14);
        twoMorePolls();
        long dropped = droppedEvents() - droppedBefore;
        assertThat(dropped).as("about nine events fit").isBetween(1L, 13L);
        assertThat(rows("explorer").size() + dropped).isEqualTo(14);
        assertThat(rows("explorer")).extracting(r -> (Long) r.get("pid")).isSubsetOf(pids);
    }

    @Test
    void theAgentReportsItselfInHeartbeats() {
        Wait.until(
                "a heartbeat",
                TIMEOUT,
                () -> !system.db()
                        .query("SELECT 1 FROM agents WHERE agent_id = $1 AND last_heartbeat IS NOT NULL", AGENT_ID)
                        .isEmpty());

        Map<String, Object> agent = system.db()
                .query("SELECT hostname, version FROM agents WHERE agent_id = $1", AGENT_ID)
                .get(0);
        assertThat(agent.get("version")).isEqualTo("0.1.0");
        assertThat((String) agent.get("hostname")).isNotBlank();
    }

    static long droppedEvents() {
        var rows = system.db().query("SELECT dropped_events FROM agents WHERE agent_id = $1", AGENT_ID);
        Object dropped = rows.isEmpty() ? null : rows.get(0).get("dropped_events");
        return dropped == null ? 0 : ((Number) dropped).longValue();
    }
}
