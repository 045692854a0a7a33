package io.dozor.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build's Linux package, unpacked and used as its README says: {@code make-runtime.sh} makes a jlink runtime
 * with the modules the agent needs (the ones {@code jdeps} lists for the jar), and the launcher runs the agent
 * on it: it opens its spool, logs and polls. Also keeps the two launchers' flags and module lists in step.
 */
class LinuxPackageTest {

    static final String RUNTIME_SCRIPT = "dozor-agent/make-runtime.sh";
    /** jdk.crypto.ec: the elliptic-curve provider TLS needs on Java 21 for a server with an EC certificate. */
    static final String SERVICE_MODULES = "jdk.crypto.ec";

    @TempDir
    Path dir;

    @Test
    void theRuntimeItMakesRunsTheAgentWithTheLaunchersFlags() throws Exception {
        Path tar = RunningStack.jar("dozor.agent.tar");
        exec(dir, Duration.ofSeconds(60), "tar", "xzf", tar.toString());
        Path home = dir.resolve("dozor-agent");
        assertThat(home.resolve("dozor-agent.jar")).isRegularFile();
        assertThat(home.resolve("README.txt")).isRegularFile();
        for (String script : List.of("dozor-agent", "make-runtime.sh")) {
            assertThat(Files.getPosixFilePermissions(home.resolve(script))).contains(PosixFilePermission.OWNER_EXECUTE);
        }
        String runtimeScript = Files.readString(home.resolve("make-runtime.sh"));
        // what jdeps lists for the jar, plus the providers no class names and jdeps cannot see
        assertThat(modules(runtimeScript)).isEqualTo(jdeps(home.resolve("dozor-agent.jar")) + "," + SERVICE_MODULES);

        String jdk = System.getProperty("java.home");
        exec(home, Duration.ofMinutes(3), "env", "JAVA_HOME=" + jdk, "./make-runtime.sh");
        assertThat(home.resolve("jre/bin/java")).isExecutable();
        String version =
                exec(home, Duration.ofSeconds(60), "env", "JAVA_HOME=/nonexistent", "./dozor-agent", "--version");
        assertThat(version.strip()).startsWith("dozor-agent ");

        Files.writeString(home.resolve("agent.ini"), """
        [server]
        url = http://127.0.0.1:9
        token = t
        allow_insecure_http = true
        [monitor]
        processes = java
        poll_interval_ms = 200
        report_existing = true
        [spool]
        dir = spool
        [log]
        dir = logs
        """);
        Process agent = new ProcessBuilder("env", "JAVA_HOME=/nonexistent", "./dozor-agent")
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("agent.out").toFile())
                .start();
        try {
            Path log = home.resolve("logs/dozor-agent.json");
            Instant deadline = Instant.now().plusSeconds(60);
            while (!(Files.exists(log) && Files.readString(log).contains("launch detected"))) {
                assertThat(agent.isAlive())
                        .as("agent running: %s", Files.readString(dir.resolve("agent.out")))
                        .isTrue();
                assertThat(Instant.now())
                        .as("agent detected a launch on the jlink runtime")
                        .isBefore(deadline);
                Thread.sleep(200);
            }
            assertThat(ProcessHandle.of(agent.pid())
                            .flatMap(h -> h.info().command())
                            .orElse(""))
                    .isEqualTo(home.resolve("jre/bin/java").toString());
            assertThat(ProcessHandle.of(agent.pid())
                            .flatMap(h -> h.info().arguments())
                            .map(Arrays::asList)
                            .orElse(List.of()))
                    .contains("-XX:TrimNativeHeapInterval=5000", "-Xmx48m");
        } finally {
            agent.destroy();
            agent.waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void bothLaunchersShareTheirFlagsAndBothRuntimeScriptsTheirModules() throws Exception {
        String both = exec(
                dir,
                Duration.ofSeconds(60),
                "tar",
                "xzOf",
                RunningStack.jar("dozor.agent.tar").toString(),
                "dozor-agent/dozor-agent",
                RUNTIME_SCRIPT);
        String linuxFlags = flags(both, "JVM_FLAGS=\"([^\"]+)\"");
        String linuxModules = modules(both);
        try (ZipFile z = new ZipFile(RunningStack.jar("dozor.agent.zip").toFile())) {
            String windowsFlags =
                    flags(WindowsPackageTest.text(z, "dozor-agent/dozor-agent.cmd"), "set \"JVM_FLAGS=([^\"]+)\"");
            // Linux adds only the glibc heap trim, which Windows does not have
            assertThat(linuxFlags).isEqualTo(windowsFlags + " -XX:TrimNativeHeapInterval=5000");
            assertThat(modules(WindowsPackageTest.text(z, "dozor-agent/make-runtime.cmd")))
                    .isEqualTo(linuxModules);
        }
    }

    static String modules(String script) {
        return flags(script, "--add-modules ([a-z.,]+)");
    }

    private static String flags(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("%s in %s", regex, text).isTrue();
        return m.group(1).trim();
    }

    private static String jdeps(Path jar) {
        StringWriter out = new StringWriter();
        int status = ToolProvider.findFirst("jdeps")
                .orElseThrow()
                .run(
                        new PrintWriter(out),
                        new PrintWriter(out),
                        "--print-module-deps",
                        "--ignore-missing-deps",
                        "--multi-release",
                        Runtime.version().feature() + "",
                        jar.toString());
        assertThat(status).as(out.toString()).isZero();
        return out.toString().strip();
    }

    private static String exec(Path dir, Duration timeout, String... command) throws Exception {
        Process p = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS))
                .as("%s finished", List.of(command))
                .isTrue();
        assertThat(p.exitValue()).as("%s: %s", List.of(command), output).isZero();
        return output;
    }
}
