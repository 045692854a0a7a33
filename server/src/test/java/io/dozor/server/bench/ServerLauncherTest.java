package io.dozor.server.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher {@code ./dozor-server} runs the server with a bounded heap unless {@code JAVA_OPTS} says
 * otherwise; the image runs that launcher, and the benchmarks' {@link ServerProcess} gives the server the same
 * flags. The launcher runs for real, deployed as in the image ({@code /app/dozor-server},
 * {@code /app/scripts/java-env.sh}, {@code /app/dozor-server.jar}), with {@link LauncherProbe} as the jar.
 */
class ServerLauncherTest {

    private static final Path REPO = Path.of("..");

    @TempDir
    static Path app;

    @BeforeAll
    static void deploy() throws IOException {
        Files.copy(REPO.resolve("dozor-server"), app.resolve("dozor-server"));
        Files.createDirectories(app.resolve("scripts"));
        Files.copy(REPO.resolve("scripts/java-env.sh"), app.resolve("scripts/java-env.sh"));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, LauncherProbe.class.getName());
        String entry = LauncherProbe.class.getName().replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(app.resolve("dozor-server.jar"));
                JarOutputStream jar = new JarOutputStream(file, manifest);
                InputStream probe = LauncherProbe.class.getResourceAsStream("/" + entry)) {
            jar.putNextEntry(new JarEntry(entry));
            probe.transferTo(jar);
            jar.closeEntry();
        }
    }

    /** {@code dozor-server ARGS} with {@code JAVA_OPTS} (none when null): what the probe printed, by name. */
    private static Map<String, String> launch(String javaOpts, String... args) throws Exception {
        List<String> command =
                new ArrayList<>(List.of(app.resolve("dozor-server").toString()));
        command.addAll(List.of(args));
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true);
        b.environment().put("JAVA_HOME", System.getProperty("java.home"));
        b.environment().remove("JAVA_OPTS");
        if (javaOpts != null) {
            b.environment().put("JAVA_OPTS", javaOpts);
        }
        Process p = b.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        Map<String, String> printed = new java.util.HashMap<>();
        out.lines()
                .filter(l -> l.contains("="))
                .forEach(l -> printed.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
        return printed;
    }

    @Test
    void boundsTheHeapAndExitsAtOutOfMemoryByDefault() throws Exception {
        Map<String, String> jvm = launch(null, "run", "--config", "/etc/dozor/server.yaml");

        assertThat(jvm.get("MaxHeapSize")).isEqualTo(Long.toString(512L << 20));
        assertThat(jvm.get("ExitOnOutOfMemoryError")).isEqualTo("true");
        assertThat(jvm.get("args")).isEqualTo("run --config /etc/dozor/server.yaml");
    }

    @Test
    void javaOptsComeAfterTheDefaultsSoTheirOwnHeapAndFlagsWin() throws Exception {
        Map<String, String> jvm = launch("-Xmx1g -XX:-ExitOnOutOfMemoryError", "--help");

        assertThat(jvm.get("MaxHeapSize")).isEqualTo(Long.toString(1L << 30));
        assertThat(jvm.get("ExitOnOutOfMemoryError")).isEqualTo("false");
        assertThat(jvm.get("flags")).contains("-Xmx512m -XX:+ExitOnOutOfMemoryError -Xmx1g");
    }

    @Test
    void theBenchmarksServerGetsTheLaunchersFlagsFirst() throws Exception {
        Map<String, String> jvm = launch(null);

        assertThat(ServerProcess.LAUNCHER_FLAGS).contains("-Xmx512m");
        assertThat(jvm.get("flags")).contains(String.join(" ", ServerProcess.LAUNCHER_FLAGS));
        assertThat(ServerProcess.jvmFlags(List.of("-Xmx2g")))
                .as("SERVER_JAVA_OPTS after them, as JAVA_OPTS")
                .endsWith("-Xmx512m", "-XX:+ExitOnOutOfMemoryError", "-Xmx2g");
    }

    @Test
    void theImageRunsTheLauncher() throws IOException {
        String dockerfile = Files.readString(REPO.resolve("server/Dockerfile"));

        assertThat(dockerfile)
                .contains(
                        "COPY dozor-server /app/dozor-server",
                        "COPY scripts/java-env.sh /app/scripts/java-env.sh",
                        "COPY --from=build /src/server/target/dozor-server.jar /app/dozor-server.jar",
                        "ENTRYPOINT [\"/app/dozor-server\"]");
    }
}
