package io.dozor.server.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server as its own process, as a deployment runs it ({@code java -cp … io.dozor.server.Main run} with the
 * launcher's flags (read from {@code ./dozor-server}: the default heap too), then the benchmark's, and {@code DOZOR_*} settings in its environment), so that its RSS and CPU in {@code /proc} are
 * its own. Also runs the server's CLI ({@code enrollment create}) the same way. Not a test.
 */
final class ServerProcess implements AutoCloseable {
    final Map<String, String> env;
    final Path logDir;
    final int port;
    final int opsPort;
    final List<String> jvmOptions;
    private Process process;

    /** The server's JVM flags in the launcher {@code ./dozor-server}, which every server process gets first. */
    static final List<String> LAUNCHER_FLAGS = launcherFlags(Path.of("").toAbsolutePath());

    /**
     * {@code SERVER_JVM_FLAGS="..."} of the launcher {@code dozor-server} in {@code dir} or the nearest folder
     * above it (the repository's root: the benchmarks run from there, the tests from {@code server/}).
     */
    static List<String> launcherFlags(Path dir) {
        for (Path d = dir; d != null; d = d.getParent()) {
            Path launcher = d.resolve("dozor-server");
            if (Files.isRegularFile(launcher)) {
                try {
                    Matcher m = Pattern.compile("(?m)^SERVER_JVM_FLAGS=\"([^\"]*)\"$")
                            .matcher(Files.readString(launcher));
                    if (!m.find()) {
                        throw new IllegalStateException("no SERVER_JVM_FLAGS=\"...\" line in " + launcher);
                    }
                    return List.of(m.group(1).trim().split("\\s+"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        throw new IllegalStateException("the launcher dozor-server is not in " + dir + " nor above it");
    }

    /** The server's JVM flags: the launcher's, then {@code jvmOptions} ({@code SERVER_JAVA_OPTS}). */
    List<String> jvmFlags() {
        return jvmFlags(jvmOptions);
    }

    static List<String> jvmFlags(List<String> jvmOptions) {
        List<String> all = new ArrayList<>(LAUNCHER_FLAGS);
        all.addAll(jvmOptions);
        return all;
    }

    ServerProcess(Map<String, String> env, Path logDir, List<String> jvmOptions) {
        this.env = env;
        this.logDir = logDir;
        this.jvmOptions = jvmOptions;
        this.port = freePort();
        this.opsPort = freePort();
        env.put("DOZOR_HTTP_PORT", Integer.toString(port));
        env.put("DOZOR_OPS_PORT", Integer.toString(opsPort));
        env.put("DOZOR_LOG_DIR", logDir.toString());
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private ProcessBuilder builder(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        if (Runtime.version().feature() >= 23) {
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.addAll(jvmFlags()); // the benchmark's after the launcher's, as JAVA_OPTS: its -Xmx wins
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("io.dozor.server.Main");
        cmd.addAll(args);
        ProcessBuilder b = new ProcessBuilder(cmd);
        b.environment().keySet().removeIf(k -> k.startsWith("DOZOR_"));
        b.environment().putAll(env);
        return b;
    }

    /** Runs a CLI command to its end and returns its standard output. */
    String cli(String... args) throws Exception {
        ProcessBuilder b = builder(List.of(args)).redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = b.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("dozor-server " + String.join(" ", args) + " failed: " + out);
        }
        return out.strip();
    }

    /** Starts {@code run} and waits until the agents' port accepts and {@code /readyz} answers 200. */
    double start() throws Exception {
        long t0 = System.nanoTime();
        Files.createDirectories(logDir);
        process = builder(List.of("run"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        logDir.resolve("console.log").toFile()))
                .start();
        Process started = process;
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroy)); // no server left behind by a killed run
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        long deadline = t0 + Duration.ofSeconds(180).toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the server exited with " + process.exitValue() + "; see " + logDir);
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + "/readyz"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && accepts()) {
                    return (System.nanoTime() - t0) / 1e9;
                }
            } catch (IOException e) {
                // not yet listening
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the server was not ready within 180 s; see " + logDir);
            }
            Thread.sleep(100);
        }
    }

    private boolean accepts() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGTERM (the server's shutdown hook stops it in order), as systemd or docker stop does; seconds taken. */
    double stop() throws InterruptedException {
        long t0 = System.nanoTime();
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    long pid() {
        return process.pid();
    }

    /** {@code VmRSS} and {@code VmHWM} of the server process, in MB. */
    long[] rssMb() {
        long rss = -1;
        long hwm = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                } else if (line.startsWith("VmHWM:")) {
                    hwm = Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return new long[] {rss, hwm};
    }

    /** CPU seconds (user + system) the server process has used. */
    double cpuSeconds() {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime (fields 14, 15); USER_HZ 100
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** One series of the ops port's /metrics, summed over its labels that contain {@code labelPart}. */
    double metric(String name, String labelPart) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + "/metrics"))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            double sum = 0;
            for (String line : r.body().split("\n")) {
                if (line.startsWith(name)
                        && (line.charAt(name.length()) == '{' || line.charAt(name.length()) == ' ')
                        && line.contains(labelPart)) {
                    sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return sum;
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    /** Lines of the server's logs: {@code [warn, error, blocked-thread warnings]} after the first {@code skip} lines. */
    long[] logCounts(long skip) {
        long warn = 0;
        long error = 0;
        long blocked = 0;
        try (var lines = Files.lines(logDir.resolve("dozor-server.json"))) {
            for (String line : (Iterable<String>) lines.skip(skip)::iterator) {
                if (line.contains("\"log.level\":\"WARN\"")) {
                    warn++;
                } else if (line.contains("\"log.level\":\"ERROR\"")) {
                    error++;
                }
                if (line.contains("has been blocked for")) {
                    blocked++;
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            // no log yet
        }
        return new long[] {warn, error, blocked};
    }

    long logLines() {
        try (var lines = Files.lines(logDir.resolve("dozor-server.json"))) {
            return lines.count();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }

    /** The WARN and ERROR lines after the first {@code skip}, each cut to its message, at most {@code max}. */
    List<String> warnings(long skip, int max) {
        List<String> out = new ArrayList<>();
        try (var lines = Files.lines(logDir.resolve("dozor-server.json"))) {
            lines.skip(skip)
                    .filter(l -> l.contains("\"log.level\":\"WARN\"") || l.contains("\"log.level\":\"ERROR\""))
                    .limit(max)
                    .forEach(l -> {
                        int m = l.indexOf("\"message\":\"");
                        out.add(m < 0 ? l : l.substring(m + 11, Math.min(l.length(), m + 11 + 200)));
                    });
        } catch (IOException | java.io.UncheckedIOException e) {
            // no log
        }
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
