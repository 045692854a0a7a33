package io.dozor.devstack;

import io.dozor.common.PrivateFiles;
import io.dozor.server.config.ServerConfig;
import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.FreePort;
import io.dozor.testkit.ProcessLogs;
import io.dozor.testkit.Wait;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Dozor as an operator runs it: the real {@code dozor-server.jar} and {@code dozor-agent.jar} as
 * separate processes, configured through their files, the agent enrolled with {@code token create}.
 * PostgreSQL and Elasticsearch are given (URLs); the local dev stack and the end-to-end tests differ
 * only in where those come from.
 */
public final class Stack implements AutoCloseable {
    /**
     * What the stack needs from outside. {@code agentSettings}: more agent INI settings as
     * {@code "section.key" -> value} (e.g. {@code "spool.max_mb"}).
     */
    public record Options(
            Path dir,
            Path serverJar,
            Path agentJar,
            String postgresUrl,
            String elasticsearchUrls,
            Optional<String> telegramApiUrl,
            Optional<String> botToken,
            List<Long> chatIds,
            String timeZone,
            String agentId,
            String watch,
            int pollIntervalMs,
            boolean inheritOutput,
            Map<String, String> agentSettings,
            int serverPort) {
        public Options(
                Path dir,
                Path serverJar,
                Path agentJar,
                String postgresUrl,
                String elasticsearchUrls,
                Optional<String> telegramApiUrl,
                Optional<String> botToken,
                List<Long> chatIds,
                String timeZone,
                String agentId,
                String watch,
                int pollIntervalMs,
                boolean inheritOutput,
                Map<String, String> agentSettings) {
            this(
                    dir,
                    serverJar,
                    agentJar,
                    postgresUrl,
                    elasticsearchUrls,
                    telegramApiUrl,
                    botToken,
                    chatIds,
                    timeZone,
                    agentId,
                    watch,
                    pollIntervalMs,
                    inheritOutput,
                    agentSettings,
                    0);
        }

        public Options(
                Path dir,
                Path serverJar,
                Path agentJar,
                String postgresUrl,
                String elasticsearchUrls,
                Optional<String> telegramApiUrl,
                Optional<String> botToken,
                List<Long> chatIds,
                String timeZone,
                String agentId,
                String watch,
                int pollIntervalMs,
                boolean inheritOutput) {
            this(
                    dir,
                    serverJar,
                    agentJar,
                    postgresUrl,
                    elasticsearchUrls,
                    telegramApiUrl,
                    botToken,
                    chatIds,
                    timeZone,
                    agentId,
                    watch,
                    pollIntervalMs,
                    inheritOutput,
                    Map.of());
        }
    }

    private final Options options;
    private Process server;
    private Process agent;
    private int port;
    private int opsPort;
    private DevCertificates certs;
    private Path serverConfig;
    private Path agentConfig;
    private String token;

    private Stack(Options options) {
        this.options = options;
    }

    public static Stack start(Options options) {
        Stack stack = new Stack(options);
        try {
            stack.startServer();
            stack.startAgent();
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    private void startServer() {
        try {
            // not private itself: PostgreSQL and Elasticsearch, as other users when run as root, have their data in it;
            // the secrets in it are (the TLS key's folder, the YAML, the INI, the token secret, the admin token)
            Files.createDirectories(options.dir());
            Path tls = PrivateFiles.createDirectories(options.dir().resolve("tls"));
            certs = Files.exists(tls.resolve("server-key.pem"))
                    ? new DevCertificates(
                            tls.resolve("ca.pem"), tls.resolve("server.pem"), tls.resolve("server-key.pem"))
                    : DevCertificates.generate(tls);
            port = FreePort.preferring(options.serverPort());
            // the dev stack's fixed server port comes with the default ops port; tests (port 0) take free ones
            opsPort = FreePort.preferring(options.serverPort() == 0 ? 0 : ServerConfig.Ops.DEFAULT_PORT);
            serverConfig = options.dir().resolve("server.yaml");
            PrivateFiles.write(serverConfig, serverYaml()); // the token secret, a database password, a bot token
            token = tokenCreate("--agent-id", options.agentId());
            if (!Files.exists(adminTokenFile())) {
                PrivateFiles.write(adminTokenFile(), tokenCreate("--admin", "dev") + "\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        restartServer();
    }

    /** An admin API token, made at the first start and kept (readable by its owner only). */
    public Path adminTokenFile() {
        return options.dir().resolve("admin-token");
    }

    /** The server's HTTPS port. */
    public int port() {
        return port;
    }

    /** The server's ops listener: {@code /metrics}, {@code /readyz}, {@code /healthz} (plain HTTP, loopback). */
    public String opsUrl() {
        return "http://127.0.0.1:" + opsPort;
    }

    public int opsPort() {
        return opsPort;
    }

    /** Starts the server again (after {@link #stopServer()}) on the same port with the same settings. */
    public void restartServer() {
        server = launch(
                "server", List.of("-jar", options.serverJar().toString(), "run", "--config", serverConfig.toString()));
        awaitHealthy(Duration.ofSeconds(60));
    }

    /** Stops the server (SIGTERM and a grace period): the agent finds it unreachable. */
    public void stopServer() {
        stop(server);
        server = null;
    }

    /** Kills the server at once (SIGKILL, like kill -9 or a power cut): no shutdown code runs. */
    public void killServer() {
        kill(server);
        server = null;
    }

    /** The enrolled agent's token, for tests that speak the agent's protocol themselves. */
    public String agentToken() {
        return token;
    }

    /** A TLS context trusting the stack's development CA. */
    public javax.net.ssl.SSLContext clientTls() {
        return certs.clientContext();
    }

    /** Kills the agent at once (SIGKILL, like kill -9 or a power cut): no shutdown code runs. */
    public void killAgent() {
        kill(agent);
        agent = null;
    }

    private static void kill(Process process) {
        try {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts the agent again with the same settings; returns once it has taken its first snapshot. */
    public void restartAgent() {
        Path log = agentLog();
        long logOffset = size(log);
        agent = launch(
                "agent", List.of("-jar", options.agentJar().toString(), "run", "--config", agentConfig.toString()));
        awaitAgentStarted(log, logOffset, Duration.ofSeconds(60));
    }

    /** The agent's JSON log (one object per line). */
    public Path agentLog() {
        return options.dir().resolve("logs/agent/dozor-agent.json");
    }

    private String serverYaml() throws IOException {
        StringBuilder y = new StringBuilder("# written by dozor-devstack\n");
        y.append("http:\n  host: 127.0.0.1\n  port: ").append(port).append('\n');
        y.append("  tls:\n    cert: ")
                .append(quote(certs.serverCert()))
                .append("\n    key: ")
                .append(quote(certs.serverKey()))
                .append('\n');
        y.append("ops:\n  host: 127.0.0.1\n  port: ").append(opsPort).append('\n');
        y.append("auth:\n  token_secret: ").append(secret()).append('\n');
        y.append("postgres:\n  url: ").append(quote(options.postgresUrl())).append('\n');
        y.append("elasticsearch:\n  urls: ")
                .append(quote(options.elasticsearchUrls()))
                .append('\n');
        y.append("telegram:\n  time_zone: ").append(options.timeZone()).append('\n');
        options.telegramApiUrl()
                .ifPresent(u -> y.append("  api_url: ").append(quote(u)).append('\n'));
        options.botToken()
                .ifPresent(t -> y.append("  bot_token: ").append(quote(t)).append('\n'));
        if (!options.chatIds().isEmpty()) {
            y.append("  chat_ids: ").append(options.chatIds()).append('\n');
        }
        y.append("log:\n  dir: ")
                .append(quote(options.dir().resolve("logs/server")))
                .append('\n');
        return y.toString();
    }

    /** The signing secret survives restarts of the dev stack, so enrolled agents stay valid. */
    private String secret() throws IOException {
        Path file = options.dir().resolve("token-secret");
        if (!Files.exists(file)) {
            byte[] bytes = new byte[32];
            new SecureRandom().nextBytes(bytes);
            // what `dozor-server secret generate` prints: base64url has no long runs the server would call predictable
            PrivateFiles.write(
                    file, java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
        }
        return Files.readString(file).trim();
    }

    /** {@code token create} with the stack's configuration: the token it prints. */
    private String tokenCreate(String option, String subject) {
        String out = cli("token", "create", option, subject);
        if (out.isEmpty()) {
            throw new IllegalStateException("token create printed nothing");
        }
        return out;
    }

    /**
     * Runs a {@code dozor-server} command with the stack's configuration ({@code --config} is added) and returns
     * what it printed on stdout; its stderr goes to this process's. Fails unless it exits 0 within a minute.
     */
    public String cli(String... args) {
        List<String> command =
                new ArrayList<>(List.of(java(), "-jar", options.serverJar().toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--config", serverConfig.toString()));
        try {
            Process p = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", args) + ": no exit within 60 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", args) + " failed (exit " + p.exitValue() + ")");
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void startAgent() {
        agentConfig = options.dir().resolve("agent.ini");
        String ini = """
        ; written by dozor-devstack
        [server]
        url = https://localhost:%d
        token = %s
        ca_file = %s

        [monitor]
        processes = %s
        poll_interval_ms = %d

        [spool]
        dir = %s

        [log]
        dir = %s
        """.formatted(
                        port,
                        token,
                        certs.caCert(),
                        options.watch(),
                        options.pollIntervalMs(),
                        options.dir().resolve("spool"),
                        options.dir().resolve("logs/agent"));
        ini = withSettings(ini, options.agentSettings());
        try {
            PrivateFiles.write(agentConfig, ini);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        restartAgent();
    }

    /** Adds each {@code "section.key" -> value} under its section header. */
    static String withSettings(String ini, Map<String, String> settings) {
        String result = ini;
        for (Map.Entry<String, String> e : settings.entrySet()) {
            int dot = e.getKey().indexOf('.');
            String header = "[" + e.getKey().substring(0, dot) + "]\n";
            String line = e.getKey().substring(dot + 1) + " = " + e.getValue() + "\n";
            result = result.contains(header) ? result.replace(header, header + line) : result + "\n" + header + line;
        }
        return result;
    }

    private static long size(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** The agent reports launches only after its first snapshot; its JSON log says when that is done. */
    private void awaitAgentStarted(Path log, long offset, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            if (!agent.isAlive()) {
                throw new IllegalStateException("the agent exited with status " + agent.exitValue()
                        + (options.inheritOutput()
                                ? ""
                                : "; see " + options.dir().resolve("agent.out")));
            }
            try {
                if (Files.exists(log)) {
                    byte[] bytes = Files.readAllBytes(log);
                    // only what this agent wrote: an earlier run's "agent started" must not count
                    String written = bytes.length <= offset
                            ? ""
                            : new String(bytes, (int) offset, bytes.length - (int) offset, StandardCharsets.UTF_8);
                    if (written.contains("\"message\":\"agent started\"")) {
                        return;
                    }
                }
            } catch (IOException e) {
                // being written: read again
            }
            Wait.pause(100);
        }
        throw new IllegalStateException("the agent did not start within " + timeout);
    }

    private Process launch(String name, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(args);
        // stopped by close(), agent first: Ctrl-C in the terminal must not stop the server under a running agent
        ProcessBuilder builder = new ProcessBuilder(ProcessLogs.inOwnSession(command));
        if (options.inheritOutput()) {
            builder.inheritIO();
        } else {
            Path log = options.dir().resolve(name + ".out");
            builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        }
        try {
            return builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name, e);
        }
    }

    private void awaitHealthy(Duration timeout) {
        HttpClient client = HttpClient.newBuilder()
                .sslContext(certs.clientContext())
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        Instant deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            if (!server.isAlive()) {
                throw new IllegalStateException("the server exited with status " + server.exitValue()
                        + (options.inheritOutput()
                                ? ""
                                : "; see " + options.dir().resolve("server.out")));
            }
            try {
                var response = client.send(
                        HttpRequest.newBuilder(URI.create(url() + "/healthz")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            Wait.pause(200);
        }
        throw new IllegalStateException("the server did not answer /healthz within " + timeout);
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    private static String quote(Object value) {
        return "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    public String url() {
        return "https://localhost:" + port;
    }

    public Path serverConfig() {
        return serverConfig;
    }

    public Path agentConfig() {
        return agentConfig;
    }

    public Path caCert() {
        return certs.caCert();
    }

    public boolean isRunning() {
        return Stream.of(server, agent).allMatch(p -> p != null && p.isAlive());
    }

    /** Stops the agent, then the server (each gets SIGTERM and a grace period). */
    @Override
    public void close() {
        stop(agent);
        agent = null;
        stop(server);
        server = null;
    }

    /** SIGTERM, 15 s of grace, then SIGKILL. */
    static void stop(Process p) {
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
