package io.dozor.devstack;

import io.dozor.server.config.ServerConfig;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.EmbeddedPostgres;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The whole system on one machine for a developer: PostgreSQL and Elasticsearch (its own unless
 * {@code DOZOR_POSTGRES_URL} / {@code DOZOR_ELASTICSEARCH_URLS} name existing ones), a development
 * TLS certificate, the server, and a local agent enrolled with a fresh token. With no
 * {@code DOZOR_TELEGRAM_BOT_TOKEN}, notifications are written to the server's log in their exact text.
 */
@Command(
        name = "dozor-dev",
        mixinStandardHelpOptions = true,
        description = "Run Dozor locally: PostgreSQL, Elasticsearch, server and agent.")
public final class DevStack implements Callable<Integer> {
    /** Stable ports for the dev stack, each replaced by a free one (and a line saying so) when taken. */
    static final int SERVER_PORT = 8443;

    static final int ES_PORT = 9200;

    @Option(names = "--dir", description = "state directory (default: ${DEFAULT-VALUE})", defaultValue = ".dozor-dev")
    Path dir;

    @Option(names = "--server-jar", defaultValue = "server/target/dozor-server.jar")
    Path serverJar;

    @Option(names = "--agent-jar", defaultValue = "agent/target/dozor-agent.jar")
    Path agentJar;

    @Option(
            names = "--watch",
            description = "programs the agent reports (default: ${DEFAULT-VALUE})",
            defaultValue = "chrome, browser, telegram, explorer")
    String watch;

    @Option(names = "--poll-ms", defaultValue = "1000")
    int pollMs;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DevStack()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        for (Path jar : List.of(serverJar, agentJar)) {
            if (!jar.toFile().isFile()) {
                System.err.println("dozor-dev: " + jar + " not found; build first: ./dozor-build");
                return 2;
            }
        }
        List<AutoCloseable> started = new ArrayList<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            System.err.println("dozor-dev: stopping");
                            for (AutoCloseable c : started.reversed()) {
                                try {
                                    c.close();
                                } catch (Exception e) {
                                    System.err.println("dozor-dev: stopping " + c + " failed: " + e.getMessage());
                                }
                            }
                            stopped.countDown();
                        },
                        "dozor-dev-stop"));

        Optional<String> givenPg = env("DOZOR_POSTGRES_URL");
        if (givenPg.isPresent()) {
            Optional<String> problem = PostgresCheck.problem(givenPg.get());
            if (problem.isPresent()) {
                System.err.println("dozor-dev: DOZOR_POSTGRES_URL: " + problem.get());
                return 2;
            }
        }
        String pgUrl = givenPg.orElseGet(() -> {
            System.err.println("dozor-dev: starting PostgreSQL in " + dir.resolve("postgres"));
            EmbeddedPostgres pg = EmbeddedPostgres.start(dir.resolve("postgres").toAbsolutePath())
                    .closeOnlyExplicitly();
            started.add(pg);
            return pg.url();
        });
        String esUrl = env("DOZOR_ELASTICSEARCH_URLS").orElseGet(() -> {
            System.err.println(
                    "dozor-dev: starting Elasticsearch in " + dir.resolve("elasticsearch") + " (about 20-40 s)");
            Elasticsearch es = Elasticsearch.start(Elasticsearch.Options.defaults()
                            .withDirectory(dir.resolve("elasticsearch").toAbsolutePath())
                            .withHttpPort(ES_PORT))
                    .closeOnlyExplicitly();
            started.add(es);
            portNote("Elasticsearch", ES_PORT, es.port());
            return es.url();
        });
        Stack stack = Stack.start(new Stack.Options(
                dir.toAbsolutePath(),
                serverJar.toAbsolutePath(),
                agentJar.toAbsolutePath(),
                pgUrl,
                esUrl,
                env("DOZOR_TELEGRAM_API_URL"),
                env("DOZOR_TELEGRAM_BOT_TOKEN"),
                env("DOZOR_TELEGRAM_CHAT_IDS").map(DevStack::chatIds).orElse(List.of()),
                env("DOZOR_TELEGRAM_TIME_ZONE").orElse(ZoneId.systemDefault().getId()),
                "dev-" + InetAddress.getLocalHost().getHostName(),
                watch,
                pollMs,
                true,
                Map.of(),
                SERVER_PORT));
        started.add(stack);
        portNote("the server", SERVER_PORT, stack.port());
        portNote("the server's ops listener", ServerConfig.Ops.DEFAULT_PORT, stack.opsPort());

        System.err.print(banner(stack, pgUrl, esUrl));
        stopped.await();
        return 0;
    }

    /** What the operator needs to use the running stack, with paths as typed from the current directory. */
    String banner(Stack stack, String pgUrl, String esUrl) {
        String config = shown(stack.serverConfig());
        return """

        dozor-dev: running
          server         %s  (config %s)
          metrics        %s/metrics  (readiness: %s/readyz; Prometheus rules: prometheus/)
          agent          watching [%s]  (config %s)
          PostgreSQL     %s
          Elasticsearch  %s
          notifications  %s
          TLS CA         %s
          admin token    %s  (for the admin API)
          logs           %s

        Try it:        cp /bin/sleep /tmp/chrome && /tmp/chrome 30 &
        Launches:      ./dozor-server events --config %s --follow
        Admin API:     curl --cacert %s -H "Authorization: Bearer $(cat %s)" '%s/api/v1/events?limit=10'
        Stop with Ctrl-C; the next ./dozor-dev starts with the same data.

        """.formatted(
                        stack.url(),
                        config,
                        stack.opsUrl(),
                        stack.opsUrl(),
                        watch,
                        shown(stack.agentConfig()),
                        ServerConfig.Postgres.redact(pgUrl),
                        esUrl,
                        env("DOZOR_TELEGRAM_BOT_TOKEN").isPresent()
                                ? "Telegram"
                                : "the server log (no DOZOR_TELEGRAM_BOT_TOKEN)",
                        shown(stack.caCert()),
                        shown(stack.adminTokenFile()),
                        shown(dir.resolve("logs")),
                        config,
                        shown(stack.caCert()),
                        shown(stack.adminTokenFile()),
                        stack.url());
    }

    /** Relative to the current directory when inside it (as README's commands are typed), else absolute. */
    static String shown(Path path) {
        Path cwd = Path.of("").toAbsolutePath();
        Path abs = path.toAbsolutePath().normalize();
        return abs.startsWith(cwd) ? cwd.relativize(abs).toString() : abs.toString();
    }

    private static void portNote(String what, int preferred, int actual) {
        if (actual != preferred) {
            System.err.println(
                    "dozor-dev: port " + preferred + " is taken: " + what + " listens on " + actual + " instead");
        }
    }

    private static Optional<String> env(String name) {
        return Optional.ofNullable(System.getenv(name)).filter(v -> !v.isBlank());
    }

    private static List<Long> chatIds(String csv) {
        return Arrays.stream(csv.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .map(Long::parseLong)
                .toList();
    }
}
