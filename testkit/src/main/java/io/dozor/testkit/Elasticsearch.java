package io.dozor.testkit;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Elasticsearch for tests, started from the distribution zip (by default the
 * {@code integ-test-zip} that the testkit build copies to {@code testkit/target/elasticsearch/}).
 *
 * <p>Each node lives in a fresh directory under {@code /tmp} (distribution, config, data, logs,
 * stdout); when the JVM runs as root the directory is given to the system user {@code dozor-es}
 * and the node runs as that user (Elasticsearch refuses to run as root). HTTP and transport bind
 * to 127.0.0.1 on free ports; security is disabled (plain HTTP, no authentication).
 *
 * <p>Typical use: {@code Elasticsearch.shared().url()} in tests (one node per JVM, or the external
 * node named by the environment variable {@code DOZOR_TEST_ES_URL}), or try-with-resources on
 * {@link #start()} for a private node.
 */
public final class Elasticsearch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Elasticsearch.class);

    /** Environment variable / system property: URL of an already running node for {@link #shared()}. */
    public static final String EXTERNAL_URL_ENV = "DOZOR_TEST_ES_URL";
    /** Environment variable / system property: JDK (21+) to run Elasticsearch with. */
    public static final String JAVA_HOME_ENV = "DOZOR_ES_JAVA_HOME";
    /** System property / environment variable: path of the distribution zip. */
    public static final String ZIP_PROPERTY = "dozor.es.zip";

    public static final String ZIP_ENV = "DOZOR_ES_ZIP";
    /** The system user nodes run as when the JVM runs as root. */
    public static final String USER = "dozor-es";

    private static final int LOG_TAIL_LINES = 60;
    private static Elasticsearch shared;

    private final String url;
    private final Path nodeDir; // null for an external node
    private final Process process; // null for an external node
    private final ProcessLogs.Cleanup cleanup; // null for an external node
    private final HttpClient http;

    /**
     * How to start a node. All fields have defaults ({@link #defaults()}); use the {@code with*}
     * methods to change one.
     *
     * @param zip the Elasticsearch distribution zip; null = {@link #findZip()}
     * @param javaHome JDK 21+ for {@code ES_JAVA_HOME}; null = {@link #findJavaHome()}
     * @param heap value for {@code -Xms}/{@code -Xmx}, e.g. {@code 512m}
     * @param startupTimeout how long to wait for the cluster to become yellow
     * @param settings extra {@code elasticsearch.yml} settings (override the defaults)
     */
    public record Options(
            Path zip,
            Path javaHome,
            String heap,
            Duration startupTimeout,
            Map<String, String> settings,
            Path directory,
            int httpPort) {
        public Options {
            heap = heap == null ? "512m" : heap;
            startupTimeout = startupTimeout == null ? Duration.ofSeconds(120) : startupTimeout;
            settings = settings == null ? Map.of() : Map.copyOf(settings);
        }

        public static Options defaults() {
            return new Options(null, null, null, null, null, null, 0);
        }

        public Options withZip(Path zip) {
            return new Options(zip, javaHome, heap, startupTimeout, settings, directory, httpPort);
        }

        public Options withJavaHome(Path javaHome) {
            return new Options(zip, javaHome, heap, startupTimeout, settings, directory, httpPort);
        }

        public Options withHeap(String heap) {
            return new Options(zip, javaHome, heap, startupTimeout, settings, directory, httpPort);
        }

        public Options withStartupTimeout(Duration startupTimeout) {
            return new Options(zip, javaHome, heap, startupTimeout, settings, directory, httpPort);
        }

        /** Adds (or overrides) one {@code elasticsearch.yml} setting. */
        public Options withSetting(String key, String value) {
            Map<String, String> s = new LinkedHashMap<>(settings);
            s.put(key, value);
            return new Options(zip, javaHome, heap, startupTimeout, s, directory, httpPort);
        }

        /**
         * A node that keeps its data: it lives in {@code directory} (distribution, data, logs and temporary files),
         * which stopping keeps and the next start with the same directory reuses.
         */
        public Options withDirectory(Path directory) {
            return new Options(zip, javaHome, heap, startupTimeout, settings, directory, httpPort);
        }

        /** The HTTP port to take if it is free (else a free one; {@link #port()} tells which); 0 = any free port. */
        public Options withHttpPort(int httpPort) {
            return new Options(zip, javaHome, heap, startupTimeout, settings, directory, httpPort);
        }
    }

    /** Thrown when a node cannot be started; the message includes the tail of its output. */
    public static class StartupException extends RuntimeException {
        public StartupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** An HTTP response from {@link #request}. */
    public record Response(int status, String body) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    private Elasticsearch(String url, Path nodeDir, Process process, ProcessLogs.Cleanup cleanup) {
        this.url = url;
        this.nodeDir = nodeDir;
        this.process = process;
        this.cleanup = cleanup;
        this.http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    // ---------------------------------------------------------------- starting

    /** Starts a private node with the default options. Close it when done. */
    public static Elasticsearch start() {
        return start(Options.defaults());
    }

    /** Starts a private node. Close it when done (a shutdown hook closes it otherwise). */
    public static Elasticsearch start(Options options) {
        Path zip = options.zip() != null ? options.zip() : findZip();
        Path javaHome = options.javaHome() != null ? options.javaHome() : findJavaHome();
        StartupException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                return startOnce(zip, javaHome, options);
            } catch (PortTakenException e) {
                LOG.warn("Elasticsearch could not bind its port (attempt {}), retrying with other ports", attempt);
                last = e;
            }
        }
        throw last;
    }

    /**
     * The node shared by everything in this JVM: the external node named by {@code DOZOR_TEST_ES_URL}
     * (environment variable or system property) if set, otherwise a node started on first use with
     * the default options and stopped by a shutdown hook. Do not close it.
     */
    public static synchronized Elasticsearch shared() {
        if (shared == null) {
            String external = setting(EXTERNAL_URL_ENV);
            if (external != null && !external.isBlank()) {
                LOG.info("Using the external Elasticsearch at {} ({})", external, EXTERNAL_URL_ENV);
                shared = external(external);
            } else {
                shared = start();
            }
        }
        return shared;
    }

    /** A handle on a node started by someone else: HTTP helpers only, {@link #stop()} does nothing. */
    public static Elasticsearch external(String url) {
        String u = url.strip();
        while (u.endsWith("/")) {
            u = u.substring(0, u.length() - 1);
        }
        return new Elasticsearch(u, null, null, null);
    }

    private static final class PortTakenException extends StartupException {
        PortTakenException(String message) {
            super(message, null);
        }
    }

    private static Elasticsearch startOnce(Path zip, Path javaHome, Options options) {
        long t0 = System.nanoTime();
        // registered first: whatever happens from here on (even SIGTERM to this JVM), the node is stopped and its
        // directory deleted
        ProcessLogs.Cleanup cleanup = new ProcessLogs.Cleanup("elasticsearch", p -> ProcessLogs.stopTree(p, 30_000));
        Path nodeDir;
        try {
            nodeDir = options.directory() != null
                    ? Files.createDirectories(options.directory().toAbsolutePath())
                    : cleanup.deleteOnClose(Files.createTempDirectory(Path.of("/tmp"), "dozor-es-"));
        } catch (IOException e) {
            cleanup.close();
            throw new UncheckedIOException("cannot create the node directory " + options.directory(), e);
        }
        Path out = nodeDir.resolve("elasticsearch.out");
        try {
            String user = Unprivileged.ensureUser(USER);
            Path home = unzipOnce(zip, nodeDir);
            Path data = Files.createDirectories(nodeDir.resolve("data"));
            Path logs = Files.createDirectories(nodeDir.resolve("logs"));
            ProcessLogs.deleteRecursively(nodeDir.resolve("tmp")); // a kept node's temporary files of its last run
            Path tmp = Files.createDirectories(nodeDir.resolve("tmp"));
            int httpPort = FreePort.preferring(options.httpPort());
            int transportPort = FreePort.find();
            while (transportPort == httpPort) {
                transportPort = FreePort.find();
            }
            writeConfig(
                    home,
                    data,
                    logs,
                    httpPort,
                    transportPort,
                    nodeDir.getFileName().toString(),
                    options.settings());
            Files.setPosixFilePermissions(nodeDir, perms("rwxr-xr-x"));
            Unprivileged.chown(nodeDir, user);
            if (!Unprivileged.canAccess(data, user, "-w")) {
                throw new StartupException(
                        "user " + user + " cannot write " + data + " (is one of its parents private to"
                                + " root?): choose a directory under /tmp or another shared place",
                        null);
            }

            ProcessBuilder pb = new ProcessBuilder(
                    Unprivileged.wrap(List.of(home.resolve("bin/elasticsearch").toString()), user));
            pb.directory(home.toFile());
            Map<String, String> env = pb.environment();
            env.remove("JAVA_HOME");
            env.remove("JAVA_TOOL_OPTIONS");
            env.remove("_JAVA_OPTIONS");
            env.remove("JAVA_OPTS");
            env.remove("ES_PATH_CONF");
            env.put("ES_JAVA_HOME", javaHome.toString());
            env.put("ES_JAVA_OPTS", "-Xms" + options.heap() + " -Xmx" + options.heap());
            env.put("ES_TMPDIR", tmp.toString());
            // the launcher's own JVM too: it writes its final-flags* files to java.io.tmpdir
            env.put("CLI_JAVA_OPTS", "-Djava.io.tmpdir=" + tmp);
            env.put("HOME", nodeDir.toString());
            pb.redirectErrorStream(true);
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            LOG.info(
                    "Starting Elasticsearch in {} on http port {} (ES_JAVA_HOME={}, user {})",
                    nodeDir,
                    httpPort,
                    javaHome,
                    user);
            Process process = cleanup.start(pb);
            String url = "http://127.0.0.1:" + httpPort;
            Elasticsearch node = new Elasticsearch(url, nodeDir, process, cleanup);
            node.awaitReady(options.startupTimeout(), out);
            LOG.info("Elasticsearch ready at {} after {} ms", url, (System.nanoTime() - t0) / 1_000_000);
            return node;
        } catch (IOException e) {
            cleanup.close();
            throw new StartupException("cannot prepare Elasticsearch in " + nodeDir + ": " + e, e);
        } catch (RuntimeException e) {
            cleanup.close();
            throw e;
        }
    }

    private void awaitReady(Duration timeout, Path out) {
        long deadline = System.nanoTime() + timeout.toNanos();
        URI health = URI.create(url + "/_cluster/health?wait_for_status=yellow&timeout=1s");
        String lastProblem = "no answer yet";
        while (true) {
            if (!process.isAlive()) {
                String tail = ProcessLogs.describeTail(out, LOG_TAIL_LINES);
                String message = "Elasticsearch in " + nodeDir + " exited with code " + process.exitValue()
                        + " before becoming ready" + tail;
                if (tail.contains("BindException") || tail.contains("Address already in use")) {
                    throw new PortTakenException(message);
                }
                throw new StartupException(message, null);
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(health)
                                .timeout(Duration.ofSeconds(10))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                lastProblem = "HTTP " + r.statusCode() + ": " + r.body();
            } catch (IOException e) {
                lastProblem = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StartupException("interrupted while waiting for Elasticsearch", e);
            }
            if (System.nanoTime() > deadline) {
                throw new StartupException(
                        "Elasticsearch in " + nodeDir + " not ready within " + timeout.toSeconds() + " s (last check: "
                                + lastProblem + ")" + ProcessLogs.describeTail(out, LOG_TAIL_LINES),
                        null);
            }
            sleep(250);
        }
    }

    private static void writeConfig(
            Path home,
            Path data,
            Path logs,
            int httpPort,
            int transportPort,
            String nodeName,
            Map<String, String> extra)
            throws IOException {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("cluster.name", "dozor-test");
        s.put("node.name", nodeName);
        s.put("path.data", data.toString());
        s.put("path.logs", logs.toString());
        s.put("network.host", "127.0.0.1");
        s.put("http.port", Integer.toString(httpPort));
        s.put("transport.port", Integer.toString(transportPort));
        s.put("discovery.type", "single-node");
        s.put("cluster.routing.allocation.disk.threshold_enabled", "false");
        s.put("action.destructive_requires_name", "false");
        // Settings of modules that may be absent: unknown settings make Elasticsearch refuse to start.
        if (Files.isDirectory(home.resolve("modules/x-pack-security"))) {
            s.put("xpack.security.enabled", "false"); // otherwise 9.x auto-configures TLS + passwords
        }
        if (Files.isDirectory(home.resolve("modules/ingest-geoip"))) {
            s.put("ingest.geoip.downloader.enabled", "false");
        }
        if (Files.isDirectory(home.resolve("modules/x-pack-ml"))) {
            s.put("xpack.ml.enabled", "false");
        }
        s.putAll(extra);
        StringBuilder yml = new StringBuilder("# written by io.dozor.testkit.Elasticsearch\n");
        s.forEach((k, v) -> yml.append(k).append(": ").append(yamlScalar(v)).append('\n'));
        Files.writeString(home.resolve("config/elasticsearch.yml"), yml.toString(), StandardCharsets.UTF_8);
    }

    private static String yamlScalar(String value) {
        if (value.matches("[A-Za-z0-9_./:-]+")) {
            return value;
        }
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** The Elasticsearch home in {@code dir}: extracted from the zip unless a complete earlier extraction is there. */
    private static Path unzipOnce(Path zip, Path dir) throws IOException {
        Path done = dir.resolve("distribution.extracted");
        if (Files.exists(done)
                && Files.readString(done).equals(zip.getFileName().toString())) {
            try (Stream<Path> children = Files.list(dir)) {
                Optional<Path> home = children.filter(p -> Files.isRegularFile(p.resolve("bin/elasticsearch")))
                        .findFirst();
                if (home.isPresent()) {
                    return home.get();
                }
            }
        }
        Path home = unzip(zip, dir);
        Files.writeString(done, zip.getFileName().toString());
        return home;
    }

    /** Extracts the zip into {@code dir}, keeping Unix modes, and returns the Elasticsearch home. */
    private static Path unzip(Path zip, Path dir) throws IOException {
        Path normDir = dir.toAbsolutePath().normalize();
        try (ZipFile zf = ZipFile.builder().setPath(zip).get()) {
            Enumeration<ZipArchiveEntry> entries = zf.getEntries();
            while (entries.hasMoreElements()) {
                ZipArchiveEntry entry = entries.nextElement();
                Path target = normDir.resolve(entry.getName()).normalize();
                if (!target.startsWith(normDir)) {
                    throw new IOException("zip entry outside the target directory: " + entry.getName());
                }
                int mode = entry.getUnixMode() & 0777;
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                    continue;
                }
                Files.createDirectories(target.getParent());
                if (entry.isUnixSymlink()) {
                    Files.createSymbolicLink(target, Path.of(zf.getUnixSymlink(entry)));
                    continue;
                }
                try (InputStream in = zf.getInputStream(entry)) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
                boolean executable = target.getParent().getFileName().toString().equals("bin") || (mode & 0100) != 0;
                Files.setPosixFilePermissions(target, perms(executable ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        try (Stream<Path> children = Files.list(normDir)) {
            return children.filter(p -> Files.isRegularFile(p.resolve("bin/elasticsearch")))
                    .findFirst()
                    .orElseThrow(() -> new IOException("no */bin/elasticsearch in " + zip));
        }
    }

    // ---------------------------------------------------------------- locating the zip and the JDK

    /**
     * The distribution zip: system property {@code dozor.es.zip} or environment variable {@code
     * DOZOR_ES_ZIP}; otherwise {@code testkit/target/elasticsearch/elasticsearch-*.zip} found from the
     * working directory or one of its parents; otherwise the newest integ-test-zip in the local Maven
     * repository.
     */
    public static Path findZip() {
        String configured = setting(ZIP_PROPERTY);
        if (configured == null) {
            configured = setting(ZIP_ENV);
        }
        if (configured != null && !configured.isBlank()) {
            Path p = Path.of(configured);
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException("Elasticsearch zip " + p + " (from " + ZIP_PROPERTY + "/" + ZIP_ENV
                        + ") does not exist: run `mvn -pl testkit generate-resources` first");
            }
            return p;
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            for (Path candidateDir :
                    List.of(d.resolve("testkit/target/elasticsearch"), d.resolve("target/elasticsearch"))) {
                Optional<Path> zip = newestZip(candidateDir);
                if (zip.isPresent()) {
                    return zip.get();
                }
            }
        }
        Path m2 = Path.of(
                System.getProperty("user.home"),
                ".m2/repository/org/elasticsearch/distribution/integ-test-zip/elasticsearch");
        if (Files.isDirectory(m2)) {
            try (Stream<Path> versions = Files.list(m2)) {
                Optional<Path> zip = versions.map(v -> v.resolve("elasticsearch-" + v.getFileName() + ".zip"))
                        .filter(Files::isRegularFile)
                        .max(Comparator.comparing(p -> Runtime.Version.parse(
                                p.getParent().getFileName().toString().replaceAll("[^0-9.].*", ""))));
                if (zip.isPresent()) {
                    return zip.get();
                }
            } catch (IOException | IllegalArgumentException e) {
                LOG.debug("cannot look for the zip in {}", m2, e);
            }
        }
        throw new IllegalStateException("Elasticsearch distribution zip not found: set -D" + ZIP_PROPERTY
                + " or run `mvn -pl testkit generate-resources` (copies it to testkit/target/elasticsearch/)");
    }

    private static Optional<Path> newestZip(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "elasticsearch-*.zip")) {
            List<Path> zips = new ArrayList<>();
            ds.forEach(zips::add);
            zips.sort(Comparator.comparing(Path::toString));
            return zips.isEmpty() ? Optional.empty() : Optional.of(zips.get(zips.size() - 1));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * A JDK 21+ to run Elasticsearch: {@code DOZOR_ES_JAVA_HOME} (system property or environment
     * variable), else this JVM's {@code java.home} if it is 21+, else the newest JDK 21+ under
     * {@code /usr/lib/jvm}.
     */
    public static Path findJavaHome() {
        String configured = setting(JAVA_HOME_ENV);
        if (configured != null && !configured.isBlank()) {
            Path p = Path.of(configured);
            if (!Files.isExecutable(p.resolve("bin/java"))) {
                throw new IllegalStateException(JAVA_HOME_ENV + "=" + p + " has no bin/java");
            }
            return p;
        }
        if (Runtime.version().feature() >= 21) {
            Path home = Path.of(System.getProperty("java.home"));
            if (Files.isExecutable(home.resolve("bin/java"))) {
                return home;
            }
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvms)) {
            try (Stream<Path> dirs = Files.list(jvms)) {
                Optional<Map.Entry<Path, Integer>> best = dirs.filter(d -> Files.isExecutable(d.resolve("bin/java")))
                        .map(d -> Map.entry(d, javaFeatureVersion(d)))
                        .filter(e -> e.getValue() >= 21)
                        .max(Map.Entry.comparingByValue());
                if (best.isPresent()) {
                    return best.get().getKey();
                }
            } catch (IOException | UncheckedIOException e) {
                LOG.debug("cannot list {}", jvms, e);
            }
        }
        throw new IllegalStateException("no JDK 21+ found to run Elasticsearch: set " + JAVA_HOME_ENV);
    }

    private static int javaFeatureVersion(Path javaHome) {
        try {
            for (String line : Files.readAllLines(javaHome.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring("JAVA_VERSION=".length())
                            .replace("\"", "")
                            .strip();
                    if (v.startsWith("1.")) {
                        return Integer.parseInt(v.substring(2, 3));
                    }
                    return Integer.parseInt(v.split("[.+-]")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // no release file: unknown version
        }
        return 0;
    }

    // ---------------------------------------------------------------- handle

    /** The base URL, e.g. {@code http://127.0.0.1:9234} (no trailing slash). */
    public String url() {
        return url;
    }

    /** The HTTP port. */
    public int port() {
        return URI.create(url).getPort();
    }

    /** The node's directory under /tmp (distribution, data, logs, {@code elasticsearch.out}); null for an external node. */
    public Path directory() {
        return nodeDir;
    }

    /** True for a handle on a node this JVM did not start. */
    public boolean isExternal() {
        return process == null;
    }

    /** The launcher process of a node this JVM started (the server JVM is among its descendants); empty for an external node. */
    public Optional<ProcessHandle> process() {
        return Optional.ofNullable(process).map(Process::toHandle);
    }

    /** True while the node process this handle started is running (always true for an external node). */
    public boolean isRunning() {
        return process == null || process.isAlive();
    }

    /**
     * Stops the node (SIGTERM to the launcher, which stops the server JVM; SIGKILL to what is left
     * after 30 s). Keeps the directory. No-op for an external node or when already stopped.
     */
    public void stop() {
        if (cleanup == null) {
            return;
        }
        long t0 = System.nanoTime();
        boolean wasAlive = process.isAlive();
        cleanup.stop();
        if (wasAlive) {
            LOG.info("Elasticsearch at {} stopped in {} ms", url, (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** {@link #stop()}, then deletes the node directory. No-op for an external node. */
    @Override
    public void close() {
        if (cleanup == null) {
            return;
        }
        stop();
        cleanup.close();
    }

    /**
     * Leaves the stopping to {@link #close()} alone, not to the JVM's exit: for an owner that stops its servers
     * in an order of its own from its own shutdown hook. Returns this.
     */
    public Elasticsearch closeOnlyExplicitly() {
        if (cleanup != null) {
            cleanup.closeOnlyExplicitly();
        }
        return this;
    }

    // ---------------------------------------------------------------- HTTP helpers

    /** Sends a request; {@code body} (JSON, may be null) is sent with {@code Content-Type: application/json}. */
    public Response request(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + (path.startsWith("/") ? path : "/" + path)))
                .timeout(Duration.ofSeconds(60));
        if (body != null) {
            b.header("Content-Type", "application/json");
            b.method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Response(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + url + path + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + method + " " + path, e);
        }
    }

    /** GET; returns the body, throws {@link IllegalStateException} with status and body unless 2xx. */
    public String get(String path) {
        return checked("GET", path, null);
    }

    /** POST with a JSON body (may be null); returns the body, throws unless 2xx. */
    public String post(String path, String jsonBody) {
        return checked("POST", path, jsonBody);
    }

    /** PUT with a JSON body (may be null); returns the body, throws unless 2xx. */
    public String put(String path, String jsonBody) {
        return checked("PUT", path, jsonBody);
    }

    /** DELETE; returns the body, throws unless 2xx. */
    public String delete(String path) {
        return checked("DELETE", path, null);
    }

    /** Refreshes the indices matching the pattern and returns their document count (0 if none exist). */
    public long count(String indexPattern) {
        Response refresh = request("POST", "/" + indexPattern + "/_refresh", null);
        if (refresh.status() == 404) {
            return 0;
        }
        if (!refresh.ok()) {
            throw new IllegalStateException(
                    "POST /" + indexPattern + "/_refresh -> HTTP " + refresh.status() + ": " + refresh.body());
        }
        Response count = request("GET", "/" + indexPattern + "/_count", null);
        if (count.status() == 404) {
            return 0;
        }
        if (!count.ok()) {
            throw new IllegalStateException(
                    "GET /" + indexPattern + "/_count -> HTTP " + count.status() + ": " + count.body());
        }
        return new JsonObject(count.body()).getLong("count");
    }

    private String checked(String method, String path, String body) {
        Response r = request(method, path, body);
        if (!r.ok()) {
            throw new IllegalStateException(method + " " + path + " -> HTTP " + r.status() + ": " + r.body());
        }
        return r.body();
    }

    @Override
    public String toString() {
        return "Elasticsearch[" + url + (process == null ? ", external" : ", " + nodeDir) + "]";
    }

    // ---------------------------------------------------------------- utilities

    static String setting(String name) {
        String v = System.getProperty(name);
        return v != null ? v : System.getenv(name);
    }

    private static Set<PosixFilePermission> perms(String s) {
        return java.nio.file.attribute.PosixFilePermissions.fromString(s);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupException("interrupted", e);
        }
    }
}
