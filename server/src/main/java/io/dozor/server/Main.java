package io.dozor.server;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.auth.Secrets;
import io.dozor.server.config.ConfigException;
import io.dozor.server.config.ConfigLoader;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.index.Reindexer;
import io.dozor.server.ops.Meters;
import io.dozor.server.retention.Retention;
import io.dozor.server.rules.Durations;
import io.dozor.server.setup.ElasticsearchSetup;
import io.dozor.server.setup.IndexTemplate;
import io.dozor.server.setup.KibanaSetup;
import io.vertx.core.Vertx;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dozor-server run | token create|list|revoke | enrollment create|list|revoke | secret generate | events |
 * setup | reindex | retention}. Usage and
 * configuration errors exit 2 with one line on stderr; no logger exists before the configuration is read, so
 * logs land in its log dir.
 */
@Command(
        name = "dozor-server",
        mixinStandardHelpOptions = true,
        scope = CommandLine.ScopeType.INHERIT,
        version = "dozor-server 0.1.0",
        description = "Dozor server: receives program launches from agents, stores, indexes and notifies.",
        subcommands = {
            Main.Run.class,
            Main.Token.class,
            Main.Enrollment.class,
            Main.Secret.class,
            EventsCommand.class,
            Main.Setup.class,
            Main.Reindex.class,
            Main.RetentionRun.class
        })
public final class Main {
    static final int USAGE = 2;

    public static void main(String[] args) {
        System.exit(
                execute(args, System.getenv(), new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI; separated from {@link #main} so tests see the exit status and output. */
    public static int execute(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out).setErr(err);
        cli.getSubcommands().values().forEach(sub -> setEnv(sub, env));
        cli.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("dozor-server: " + ex.getMessage() + " (see --help)");
            return USAGE;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof ConfigException) {
                commandLine.getErr().println("dozor-server: " + ex.getMessage());
                return USAGE;
            }
            commandLine.getErr().println("dozor-server: " + ex.getMessage());
            return 1;
        });
        return cli.execute(args);
    }

    private static void setEnv(CommandLine command, Map<String, String> env) {
        if (command.getCommand() instanceof WithConfig withConfig) {
            withConfig.env = env;
        }
        command.getSubcommands().values().forEach(sub -> setEnv(sub, env));
    }

    abstract static class WithConfig {
        Map<String, String> env = System.getenv();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        @Option(names = "--config", paramLabel = "FILE", description = "YAML settings (DOZOR_* variables override it)")
        Path config;

        /** Only {@code run} serves HTTP and so needs the TLS settings. */
        boolean serves() {
            return false;
        }

        ServerConfig config() {
            if (config != null && !config.toFile().isFile()) {
                throw new ConfigException("--config: no such file " + config);
            }
            ConfigLoader loader = new ConfigLoader(env);
            ServerConfig loaded = serves()
                    ? loader.load(Optional.ofNullable(config))
                    : loader.loadForTools(Optional.ofNullable(config));
            Logging.configure(loaded.logDir(), loaded.logLogstash());
            return loaded;
        }
    }

    @Command(name = "run", description = "Start the server.")
    static final class Run extends WithConfig implements Callable<Integer> {
        @Override
        boolean serves() {
            return true;
        }

        @Override
        public Integer call() throws InterruptedException {
            ServerConfig config = config();
            Vertx vertx = DozorServer.vertx(Meters.vertxOptions(), config);
            DozorServer server;
            try {
                server = DozorServer.start(vertx, config).await();
            } catch (RuntimeException e) {
                vertx.close();
                throw e;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                server.close().eventually(vertx::close).onComplete(ar -> stopped.countDown());
                                try {
                                    stopped.await();
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            },
                            "dozor-shutdown"));
            stopped.await();
            return 0;
        }
    }

    @Command(
            name = "token",
            description = "Manage agent and admin API tokens.",
            subcommands = {Token.Create.class, Token.ListTokens.class, Token.Revoke.class})
    static final class Token {
        @Command(
                name = "create",
                description = "Print a new token (and nothing else): for an agent, or --admin for the admin API.")
        static final class Create extends WithConfig implements Callable<Integer> {
            @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
            Subject subject;

            static final class Subject {
                @Option(names = "--agent-id", paramLabel = "ID", description = "the agent this token identifies")
                String agentId;

                @Option(names = "--admin", paramLabel = "NAME", description = "an admin API token for NAME")
                String admin;
            }

            @Option(
                    names = "--expires",
                    paramLabel = "DURATION",
                    description = "lifetime, e.g. 30d (default: auth.token_ttl, 90d unless set)")
            String expires;

            @Override
            public Integer call() {
                boolean admin = subject.admin != null;
                String name = admin ? subject.admin : subject.agentId;
                if (name.isBlank() || name.length() > 128) {
                    throw new ConfigException((admin ? "--admin" : "--agent-id") + ": must be 1 to 128 characters");
                }
                Optional<Duration> ttl = Optional.ofNullable(expires).map(v -> lifetime("--expires", v));
                ServerConfig config = config();
                String token = TokenAdmin.create(
                        config,
                        name,
                        admin ? AgentTokens.Kind.ADMIN : AgentTokens.Kind.AGENT,
                        ttl.orElse(config.auth().tokenTtl()));
                out().println(token);
                return 0;
            }
        }

        @Command(
                name = "list",
                description = "List tokens (ids, kind agent|admin, agent id or admin name, how made:"
                        + " token create or enrolled, created, expires, revoked). An enrolled agent's line is its refresh"
                        + " credential, whose expiry moves on at each renewal.")
        static final class ListTokens extends WithConfig implements Callable<Integer> {
            private static final String FORMAT = "%-36s  %-5s  %-24s  %-8s  %-32s  %-32s  %s%n";

            @Override
            public Integer call() {
                out().printf(FORMAT, "TOKEN ID", "KIND", "SUBJECT", "MADE BY", "CREATED", "EXPIRES", "REVOKED");
                for (TokenAdmin.TokenRow row : TokenAdmin.list(config())) {
                    out().printf(
                                    FORMAT,
                                    row.tokenId(),
                                    row.kind(),
                                    row.agentId(),
                                    row.enrolled() ? "enrolled" : "create",
                                    row.createdAt(),
                                    row.expiresAt(),
                                    row.revokedAt());
                }
                return 0;
            }
        }

        @Command(
                name = "revoke",
                description = "Revoke one token (--token-id), all of an agent's (--agent-id) or all of"
                        + " an admin's (--admin); an agent and an admin of the same name are revoked separately.")
        static final class Revoke extends WithConfig implements Callable<Integer> {
            @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
            Target target;

            static final class Target {
                @Option(
                        names = "--token-id",
                        paramLabel = "UUID",
                        description = "one token, agent or admin (TOKEN ID of token list)")
                UUID tokenId;

                @Option(names = "--agent-id", paramLabel = "ID", description = "every agent token of this agent")
                String agentId;

                @Option(names = "--admin", paramLabel = "NAME", description = "every admin API token of this name")
                String admin;
            }

            @Override
            public Integer call() {
                int revoked = target.admin != null
                        ? TokenAdmin.revokeAll(config(), AgentTokens.Kind.ADMIN, target.admin)
                        : TokenAdmin.revoke(config(), target.tokenId, target.agentId);
                out().println("revoked " + revoked + " token(s)");
                return 0;
            }
        }
    }

    /** A lifetime option: a duration from 1 minute to 10 years. */
    static Duration lifetime(String option, String value) {
        Duration d = Durations.parse(value)
                .orElseThrow(() -> new ConfigException(
                        option + ": must be a duration such as 7d, 12h or 90m, got \"" + value + "\""));
        if (d.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new ConfigException(option + ": must be at least 1m");
        }
        return d;
    }

    @Command(
            name = "enrollment",
            description = "Manage enrollment tokens: one token lets many PCs enrol themselves.",
            subcommands = {Enrollment.Create.class, Enrollment.ListTokens.class, Enrollment.Revoke.class})
    static final class Enrollment {
        static final int MAX_USES = 1_000_000;

        static String name(String value) {
            if (!value.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                throw new ConfigException(
                        "--name: 1 to 64 letters, digits, '.', '_' or '-' (starting with a letter or digit),"
                                + " got \"" + value + "\"");
            }
            return value;
        }

        @Command(
                name = "create",
                description = "Print a new enrollment token (and nothing else) for the [server]"
                        + " enrollment_token of the agents' INI.")
        static final class Create extends WithConfig implements Callable<Integer> {
            @Option(
                    names = "--name",
                    required = true,
                    paramLabel = "NAME",
                    description = "names the token (list, revoke; the agents table's enrolled_via)")
            String name;

            @Option(
                    names = "--uses",
                    required = true,
                    paramLabel = "N",
                    description = "how many agents may enrol with it (1 to 1000000)")
            int uses;

            @Option(
                    names = "--expires",
                    required = true,
                    paramLabel = "DURATION",
                    description = "how long it can be used, e.g. 7d")
            String expires;

            @Override
            public Integer call() {
                String checked = name(name);
                if (uses < 1 || uses > MAX_USES) {
                    throw new ConfigException("--uses: must be from 1 to " + MAX_USES + ", got " + uses);
                }
                Duration lifetime = lifetime("--expires", expires);
                out().println(EnrollmentAdmin.create(config(), checked, uses, lifetime));
                return 0;
            }
        }

        @Command(name = "list", description = "List enrollment tokens (name, uses, created, expires, revoked).")
        static final class ListTokens extends WithConfig implements Callable<Integer> {
            private static final String FORMAT = "%-24s  %-15s  %-32s  %-32s  %s%n";

            @Override
            public Integer call() {
                out().printf(FORMAT, "NAME", "USES", "CREATED", "EXPIRES", "REVOKED");
                for (EnrollmentAdmin.EnrollmentRow row : EnrollmentAdmin.list(config())) {
                    out().printf(
                                    FORMAT,
                                    row.name(),
                                    row.uses() + "/" + row.maxUses(),
                                    row.createdAt(),
                                    row.expiresAt(),
                                    row.revokedAt());
                }
                return 0;
            }
        }

        @Command(
                name = "revoke",
                description = "Revoke an enrollment token: no agent enrols with it any more (agents"
                        + " enrolled with it keep their own credentials).")
        static final class Revoke extends WithConfig implements Callable<Integer> {
            @CommandLine.Parameters(paramLabel = "NAME", description = "the token's name")
            String name;

            @Override
            public Integer call() {
                String checked = name(name);
                if (!EnrollmentAdmin.revoke(config(), checked)) {
                    spec.commandLine().getErr().println("dozor-server: no unrevoked enrollment token named " + checked);
                    return 1;
                }
                out().println("revoked enrollment token " + checked);
                return 0;
            }
        }
    }

    @Command(name = "secret", description = "Signing secrets.", subcommands = Secret.Generate.class)
    static final class Secret {
        @Command(name = "generate", description = "Print a new random auth.token_secret (32 random bytes, base64url).")
        static final class Generate implements Callable<Integer> {
            @CommandLine.Spec
            CommandLine.Model.CommandSpec spec;

            @Override
            public Integer call() {
                spec.commandLine().getOut().println(Secrets.generate());
                return 0;
            }
        }
    }

    @Command(
            name = "reindex",
            description = "Rebuild Elasticsearch from PostgreSQL (after ES was lost or the template"
                    + " changed); safe to repeat and to run beside a live server.")
    static final class Reindex extends WithConfig implements Callable<Integer> {
        @Option(
                names = "--since",
                paramLabel = "TIME",
                description = "only launches at or after TIME (RFC 3339, e.g. 2026-11-01T00:00:00+03:00)")
        String since;

        @Override
        public Integer call() {
            Optional<OffsetDateTime> from;
            try {
                from = Optional.ofNullable(since).map(OffsetDateTime::parse);
            } catch (DateTimeParseException e) {
                throw new ConfigException("--since: must be RFC 3339 with an offset, e.g. 2026-11-01T00:00:00+03:00");
            }
            ServerConfig config = config();
            new ElasticsearchSetup(config.elasticsearch()).install();
            Reindexer.Result result = Reindexer.run(config, from, System.err);
            out().println("reindexed " + result.indexed() + " events"
                    + (result.failed() > 0
                            ? ", " + result.failed() + " refused by Elasticsearch (reasons above)"
                            : ""));
            return result.failed() > 0 ? 1 : 0;
        }
    }

    @Command(
            name = "retention",
            description =
                    "Run retention once with the server's settings: drop the months of"
                            + " events and the Elasticsearch indices past retention.days, bound the small tables; safe beside a live server.")
    static final class RetentionRun extends WithConfig implements Callable<Integer> {
        @Option(
                names = "--dry-run",
                description = "only print what would go (partitions, indices, row counts); remove nothing")
        boolean dryRun;

        @Override
        public Integer call() {
            ServerConfig config = config();
            Retention.Report report = Retention.once(config, dryRun, java.time.Clock.systemUTC());
            if (report.skipped()) {
                out().println("another instance is running retention now; nothing done");
                return 1;
            }
            out().println(
                            config.retention().keepsEverything()
                                    ? "retention.days = 0: events are kept forever"
                                    : "retention.days = " + config.retention().days() + ": cutoff "
                                            + report.cutoff().orElseThrow());
            Retention.describe(report).forEach(out()::println);
            out().println((dryRun ? "would remove: " : "removed: ") + Retention.counts(report));
            return report.problems().isEmpty() ? 0 : 1;
        }
    }

    @Command(
            name = "setup",
            description = "Install Elasticsearch templates and Kibana dashboards.",
            subcommands = {Setup.Elasticsearch.class, Setup.Kibana.class})
    static final class Setup {
        @Command(name = "elasticsearch", description = "Install (or update) every Dozor index template.")
        static final class Elasticsearch extends WithConfig implements Callable<Integer> {
            @Override
            public Integer call() {
                new ElasticsearchSetup(config().elasticsearch()).install().forEach(out()::println);
                return 0;
            }
        }

        @Command(name = "kibana", description = "Import Dozor's data views, dashboard and searches into Kibana.")
        static final class Kibana implements Callable<Integer> {
            @CommandLine.Spec
            CommandLine.Model.CommandSpec spec;

            @Option(names = "--url", required = true, paramLabel = "URL", description = "Kibana's base URL")
            String url;

            @Option(
                    names = "--index-prefix",
                    paramLabel = "PREFIX",
                    defaultValue = "dozor-events",
                    description = "the server's elasticsearch.index_prefix (default: ${DEFAULT-VALUE})")
            String indexPrefix;

            @Override
            public Integer call() {
                var overlap = IndexTemplate.overlapProblem(indexPrefix);
                if (overlap.isPresent()) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--index-prefix: " + overlap.get());
                }
                KibanaSetup kibana = new KibanaSetup(url);
                spec.commandLine().getOut().println(kibana.importObjects(KibanaSetup.savedObjects(indexPrefix)));
                return 0;
            }
        }
    }
}
