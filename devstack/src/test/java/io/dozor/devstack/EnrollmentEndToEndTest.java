package io.dozor.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.PostgresDatabase;
import io.dozor.testkit.Wait;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Enrolment, renewal, rotation and revocation with real agent processes (the agent's Linux process source)
 * against the real server jar, PostgreSQL and Elasticsearch. The server gives access tokens of 3 seconds,
 * so every minute of the test holds many renewals.
 */
@EnabledOnOs(OS.LINUX)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EnrollmentEndToEndTest {
    static final Duration TIMEOUT = Duration.ofSeconds(120);
    static final String REFUSED = "the server refuses this agent's credential";

    @RegisterExtension
    static final RunningStack system = RunningStack.in("enrollment-e2e")
            .agent("e2e-token-agent", "nothing-watched", 200)
            .build();

    static String oldSecret;
    final List<Process> agents = new ArrayList<>();
    final List<Process> programs = new ArrayList<>();

    @BeforeAll
    static void shortAccessTokens() throws IOException {
        oldSecret = secret();
        serverSettings("access_token_ttl: 3s");
    }

    @AfterEach
    void stopAgents() {
        programs.forEach(Process::destroyForcibly);
        agents.forEach(EnrollmentEndToEndTest::stop);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @Order(1)
    void twentyAgentsOnOneTokenOfTenUsesEnrolExactlyTen() throws Exception {
        String token = serverCli("enrollment", "create", "--name", "race", "--uses", "10", "--expires", "1h");
        List<Path> homes = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            homes.add(writeIni("race-" + i, token, "race-prog"));
        }
        for (Path home : homes) { // all started before any is waited for: they enrol at the same time
            agents.add(startAgent(home));
        }
        // 20 JVMs starting at once on a small machine: minutes, not seconds
        Wait.until(
                "every agent enrolled or refused",
                Duration.ofMinutes(6),
                () -> homes.stream().allMatch(h -> log(h).contains("agent enrolled") || log(h).contains(REFUSED)));

        long enrolled =
                homes.stream().filter(h -> log(h).contains("agent enrolled")).count();
        assertThat(enrolled).isEqualTo(10);
        assertThat(homes.stream().filter(h -> log(h).contains("enrollment_used_up")))
                .hasSize(10);
        assertThat(system.db()
                        .query("SELECT count(DISTINCT agent_id) AS n FROM agents WHERE enrolled_via = 'race'")
                        .get(0))
                .containsEntry("n", 10L);
        // every agent saved its enrollment key before its first attempt; the enrolled ones replaced it with their
        // agent id and refresh credential (a file of Java properties on Linux, protected 0600)
        assertThat(homes.stream().filter(h -> Files.exists(h.resolve("spool/credential"))))
                .hasSize(20);
        assertThat(homes.stream()
                        .filter(h -> read(h.resolve("spool/credential")).contains("agent_id=")))
                .hasSize(10);
        for (Path home : homes) {
            Path credential = home.resolve("spool/credential");
            if (Files.exists(credential)) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(credential)))
                        .isEqualTo("rw-------");
            }
        }
        assertThat(system.db()
                        .query("SELECT uses, max_uses FROM enrollment_tokens WHERE name = 'race'")
                        .get(0))
                .containsEntry("uses", 10)
                .containsEntry("max_uses", 10);
    }

    /**
     * Access tokens of 3 s for about 20 s: every launch arrives, none waits longer than one renewal, no request
     * is refused. Then the signing key is rotated (new key first, old kept; then the old dropped) under the
     * running agent, which never enrols again.
     */
    @Test
    @Order(2)
    void renewalAndKeyRotationLoseNothingAndNeverReEnrol() throws Exception {
        PostgresDatabase db = system.db();
        String token = serverCli("enrollment", "create", "--name", "renewal", "--uses", "1", "--expires", "1h");
        Path home = writeIni("renewal", token, "renew-prog, rotate-prog");
        Process agent = startAgent(home);
        agents.add(agent);
        Wait.until("the agent enrolled", TIMEOUT, () -> log(home).contains("agent enrolled"));
        String agentId = db.query("SELECT agent_id FROM agents WHERE enrolled_via = 'renewal'")
                .get(0)
                .get("agent_id")
                .toString();

        launchEverySecond("renew-prog", 20);
        Wait.until("20 launches stored", TIMEOUT, () -> count(agentId, "renew-prog") == 20);
        var worst = db.query(
                        "SELECT max(extract(epoch FROM received_at - \"timestamp\")) AS s FROM events "
                                + "WHERE agent_id = $1",
                        agentId)
                .get(0)
                .get("s");
        assertThat(((Number) worst).doubleValue())
                .as("longest wait of a launch")
                .isLessThan(4.0);

        String newSecret = "rotated-" + java.util.UUID.randomUUID().toString().replace("-", "") + "Zq";
        rotate(newSecret + "," + oldSecret);
        launchEverySecond("rotate-prog", 5);
        Wait.until("launches after the rotation", TIMEOUT, () -> count(agentId, "rotate-prog") == 5);
        rotate(newSecret);
        launchEverySecond("rotate-prog", 5);
        Wait.until("launches with the old key gone", TIMEOUT, () -> count(agentId, "rotate-prog") == 10);

        assertThat(occurrences(log(home), "agent enrolled")).isEqualTo(1);
        assertThat(log(home)).doesNotContain(REFUSED);
        assertThat(Files.readString(system.stack().serverConfig())).doesNotContain(oldSecret);
    }

    /**
     * Revoked: the next request is refused, the agent says so once and keeps what it detects; with its state
     * lost and a new enrollment token it enrols again (as another id: the old one is never reused) and sends
     * what it kept.
     */
    @Test
    @Order(3)
    void aRevokedAgentKeepsItsSpoolAndReEnrolsAfterItsStateIsLost() throws Exception {
        PostgresDatabase db = system.db();
        String token = serverCli("enrollment", "create", "--name", "revoked", "--uses", "1", "--expires", "1h");
        Path home = writeIni("revoked", token, "kept-prog");
        agents.add(startAgent(home));
        Wait.until("the agent enrolled", TIMEOUT, () -> log(home).contains("agent enrolled"));
        String agentId = db.query("SELECT agent_id FROM agents WHERE enrolled_via = 'revoked'")
                .get(0)
                .get("agent_id")
                .toString();

        assertThat(serverCli("token", "revoke", "--agent-id", agentId)).isEqualTo("revoked 1 token(s)");
        launchEverySecond("kept-prog", 3);
        Wait.until("the refusal logged", TIMEOUT, () -> log(home).contains(REFUSED));
        Wait.pause(5_000); // more attempts and heartbeats: still one line
        assertThat(occurrences(log(home), REFUSED)).isEqualTo(1);
        assertThat(db.query("SELECT count(*) AS n FROM events WHERE process_name = 'kept-prog'")
                        .get(0))
                .containsEntry("n", 0L);

        stop(agents.removeLast());
        Files.delete(home.resolve("spool/credential"));
        String second = serverCli("enrollment", "create", "--name", "again", "--uses", "1", "--expires", "1h");
        Files.writeString(
                home.resolve("agent.ini"),
                Files.readString(home.resolve("agent.ini")).replace(token, second));
        agents.add(startAgent(home));
        Wait.until(
                "the kept launches sent after re-enrolment",
                TIMEOUT,
                () -> db.query("SELECT count(*) AS n FROM events WHERE process_name = 'kept-prog'")
                        .get(0)
                        .get("n")
                        .equals(3L));
        String newId = db.query("SELECT agent_id FROM agents WHERE enrolled_via = 'again'")
                .get(0)
                .get("agent_id")
                .toString();
        assertThat(newId).isNotEqualTo(agentId);
        assertThat(db.query("SELECT DISTINCT agent_id FROM events WHERE process_name = 'kept-prog'"))
                .extracting(r -> r.get("agent_id"))
                .containsExactly(newId);
    }

    /** The INI every PC gets: only the spool and log directories differ here, as the test runs them side by side. */
    static Path writeIni(String name, String enrollmentToken, String watch) throws IOException {
        Stack stack = system.stack();
        Path home = Files.createDirectories(system.dir().resolve(name));
        Files.writeString(home.resolve("agent.ini"), """
        [server]
        url = %s
        enrollment_token = %s
        ca_file = %s
        heartbeat_interval_s = 1

        [monitor]
        processes = %s
        poll_interval_ms = 200

        [spool]
        dir = %s

        [log]
        dir = %s
        """.formatted(
                stack.url(), enrollmentToken, stack.caCert(), watch, home.resolve("spool"), home.resolve("logs")));
        return home;
    }

    static Process startAgent(Path home) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(
                        java,
                        "-Xmx64m",
                        "-XX:TieredStopAtLevel=1",
                        "-jar",
                        RunningStack.jar("dozor.agent.jar").toString(),
                        "run",
                        "--config",
                        home.resolve("agent.ini").toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        home.resolve("agent.out").toFile()))
                .start();
    }

    static void stop(Process p) {
        Stack.stop(p);
    }

    static String log(Path home) {
        try {
            Path file = home.resolve("logs/dozor-agent.json");
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    static long occurrences(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        long n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    static long count(String agentId, String processName) {
        return (Long) system.db()
                .query(
                        "SELECT count(*) AS n FROM events WHERE agent_id = $1 AND process_name = $2",
                        agentId,
                        processName)
                .get(0)
                .get("n");
    }

    /** {@code n} launches of a copy of sleep named {@code name}, one a second. */
    void launchEverySecond(String name, int n) throws IOException {
        Path exe = system.dir().resolve("bin").resolve(name);
        if (!Files.exists(exe)) {
            Files.createDirectories(exe.getParent());
            Files.copy(Path.of("/bin/sleep"), exe);
            Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        for (int i = 0; i < n; i++) {
            programs.add(new ProcessBuilder(exe.toString(), "30")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start());
            Wait.pause(1_000);
        }
    }

    /** {@code dozor-server ARGS --config <the stack's>}: its output, stripped. */
    static String serverCli(String... args) {
        return system.stack().cli(args);
    }

    static String secret() throws IOException {
        Matcher m = Pattern.compile("token_secret: (\\S+)")
                .matcher(Files.readString(system.stack().serverConfig()));
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    /** Adds a line under {@code auth:} of the server's YAML and restarts the server. */
    static void serverSettings(String authLine) throws IOException {
        Stack stack = system.stack();
        String yaml = Files.readString(stack.serverConfig());
        Files.writeString(stack.serverConfig(), yaml.replace("auth:\n", "auth:\n  " + authLine + "\n"));
        stack.stopServer();
        stack.restartServer();
    }

    static void rotate(String secrets) throws IOException {
        Stack stack = system.stack();
        String yaml = Files.readString(stack.serverConfig());
        Files.writeString(
                stack.serverConfig(), yaml.replaceFirst("token_secret: \\S+", "token_secret: \"" + secrets + "\""));
        stack.stopServer();
        stack.restartServer();
    }
}
