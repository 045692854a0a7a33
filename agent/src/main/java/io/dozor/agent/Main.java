package io.dozor.agent;

import io.dozor.agent.windows.WindowsService;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar dozor-agent.jar run --config FILE.ini}; on Windows also {@code install-service},
 * {@code uninstall-service} and {@code service} (what the service control manager starts). Usage and
 * configuration errors: exit status 2 and one line on stderr. No logger exists before the settings are
 * read, so that {@code [log] dir} can set {@code dozor.log.dir} for logging.
 *
 * <p>The command line is parsed here rather than by a library: four commands and one option, while a
 * command-line library's model (~170 classes for picocli) would stay loaded for as long as the agent runs,
 * about 2 MB of its memory budget (BENCHMARKS.md).
 */
public final class Main {

    static final int USAGE = 2;
    static final String LOG_DIR_PROPERTY = AgentLogging.DIR_PROPERTY;
    static final String LOGSTASH_PROPERTY = AgentLogging.LOGSTASH_PROPERTY;
    /** The launcher passes its JVM flags here so that install-service registers the same ones. */
    static final String JVM_FLAGS_PROPERTY = "dozor.jvm.flags";

    static final String HELP = """
            Usage: dozor-agent COMMAND [--config FILE]
            Reports launches of watched programs to the Dozor server.
            Commands:
              run --config FILE              Run the agent until stopped.
              service --config FILE          Run as the Windows service (started by the service control manager).
              install-service --config FILE  Register the agent as an automatically started Windows service
                                             (as administrator).
              uninstall-service              Stop and remove the Windows service (as administrator).
            Options:
              --config FILE                  agent settings (INI)
              -h, --help                     Show this help message and exit.
              -V, --version                  Print version information and exit.
            """;

    private enum Command {
        RUN("run", true),
        SERVICE("service", true),
        INSTALL_SERVICE("install-service", true),
        UNINSTALL_SERVICE("uninstall-service", false);

        final String word;
        final boolean needsConfig;

        Command(String word, boolean needsConfig) {
            this.word = word;
            this.needsConfig = needsConfig;
        }

        static Command of(String word) {
            for (Command c : values()) {
                if (c.word.equals(word)) {
                    return c;
                }
            }
            return null;
        }
    }

    /** What the command line asks for; {@code help} and {@code version} win over everything else. */
    record Arguments(Command command, Path config, boolean help, boolean version) {}

    /** A command line that cannot be run; the message is the line printed after {@code dozor-agent: }. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    private static volatile boolean running;

    public static void main(String[] args) {
        int status = execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        if (status != 0 || !running) {
            System.exit(status);
        }
    }

    /** Parses and runs the command line; returns the exit status. */
    static int execute(String[] args, PrintWriter out, PrintWriter err) {
        Arguments a;
        try {
            a = parse(args);
        } catch (UsageException e) {
            return error(err, USAGE, e.getMessage());
        }
        if (a.help()) {
            out.print(HELP);
            out.flush();
            return 0;
        }
        if (a.version()) {
            out.println("dozor-agent " + Agent.VERSION);
            return 0;
        }
        return switch (a.command()) {
            case RUN -> withAgent(a.config(), err, Main::runUntilStopped);
            case SERVICE -> withAgent(a.config(), err, agent -> runAsService(agent, err));
            case INSTALL_SERVICE -> installService(a.config(), out, err);
            case UNINSTALL_SERVICE -> uninstallService(out, err);
        };
    }

    static Arguments parse(String[] args) throws UsageException {
        boolean help = false;
        boolean version = false;
        Path config = null;
        List<String> words = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-h") || arg.equals("--help")) {
                help = true;
            } else if (arg.equals("-V") || arg.equals("--version")) {
                version = true;
            } else if (arg.equals("--config") || arg.startsWith("--config=")) {
                String value = arg.equals("--config") ? (++i < args.length ? args[i] : null) : arg.substring(9);
                if (value == null || value.isEmpty()) {
                    throw new UsageException("--config needs a FILE");
                }
                if (config != null) {
                    throw new UsageException("--config given twice");
                }
                config = Path.of(value);
            } else if (arg.startsWith("-")) {
                throw new UsageException("unknown option: " + arg);
            } else {
                words.add(arg);
            }
        }
        if (help || version) {
            return new Arguments(null, config, help, version);
        }
        if (words.isEmpty()) {
            throw new UsageException("missing command (expected: run)");
        }
        Command command = Command.of(words.get(0));
        if (command == null) {
            throw new UsageException("unknown command: " + words.get(0)
                    + " (expected: run, service, install-service or uninstall-service)");
        }
        if (words.size() > 1) {
            throw new UsageException("unexpected argument: " + words.get(1));
        }
        if (command.needsConfig && config == null) {
            throw new UsageException(command.word + " needs --config FILE");
        }
        if (!command.needsConfig && config != null) {
            throw new UsageException(command.word + " takes no --config");
        }
        return new Arguments(command, config, false, false);
    }

    /** The settings of {@code config}, or null after printing why not. */
    private static AgentConfig settings(Path config, PrintWriter err) {
        try {
            return AgentConfig.load(config);
        } catch (ConfigException e) {
            error(err, USAGE, e.getMessage());
            return null;
        }
    }

    /** The agent of the settings, or null after printing why not. */
    private static Agent agent(Path config, AgentConfig settings, PrintWriter err) {
        if (settings.logDir() != null) {
            System.setProperty(LOG_DIR_PROPERTY, settings.logDir().toString());
        }
        if (settings.logstash() != null) {
            System.setProperty(LOGSTASH_PROPERTY, settings.logstash());
        }
        Logger log = LoggerFactory.getLogger(Main.class); // the first logger: after dozor.log.dir is set
        ServerClient.keepIdleConnections(); // before the first request
        try {
            return new Agent(settings, ProcessSources.forThisSystem(), Clock.systemDefaultZone())
                    .reloadingFrom(config.toAbsolutePath());
        } catch (IllegalStateException e) { // the spool cannot be opened
            log.error("agent cannot start [error={}]", e.getMessage(), e);
            error(err, 1, e.getMessage());
            return null;
        }
    }

    /**
     * Reads the settings and builds the agent, then hands it to {@code body}; exit status 2 for bad settings,
     * 1 when the agent cannot be built (its spool cannot be opened), else what {@code body} returns.
     */
    private static int withAgent(Path config, PrintWriter err, ToIntFunction<Agent> body) {
        AgentConfig settings = settings(config, err);
        if (settings == null) {
            return USAGE;
        }
        Agent agent = agent(config, settings, err);
        return agent == null ? 1 : body.applyAsInt(agent);
    }

    /** Runs the agent until the JVM is asked to stop. */
    private static int runUntilStopped(Agent agent) {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            LoggerFactory.getLogger(Main.class).info("shutdown requested");
                            agent.close();
                            stopped.countDown();
                        },
                        "dozor-shutdown"));
        agent.start();
        running = true;
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static int runAsService(Agent agent, PrintWriter err) {
        try {
            WindowsService.run(agent::start, agent::close);
            return 0;
        } catch (IllegalStateException | UnsatisfiedLinkError | NoClassDefFoundError e) {
            agent.close(); // not started by the service control manager: release the spool
            return error(err, 1, "cannot run as a service: " + firstLine(e));
        }
    }

    private static int installService(Path config, PrintWriter out, PrintWriter err) {
        Path ini = config.toAbsolutePath();
        if (settings(ini, err) == null) { // refuse to install a service that could not start
            return USAGE;
        }
        String commandLine = serviceCommandLine(
                Path.of(System.getProperty("java.home"), "bin", "java.exe"),
                System.getProperty(JVM_FLAGS_PROPERTY, ""),
                jar(),
                ini);
        try {
            WindowsService.install(commandLine);
        } catch (IllegalStateException | UnsatisfiedLinkError | NoClassDefFoundError e) {
            return error(err, 1, "cannot install the service: " + firstLine(e));
        }
        out.println("installed service " + WindowsService.NAME + ": " + commandLine);
        return 0;
    }

    private static int uninstallService(PrintWriter out, PrintWriter err) {
        try {
            WindowsService.uninstall();
        } catch (IllegalStateException | UnsatisfiedLinkError | NoClassDefFoundError e) {
            return error(err, 1, "cannot remove the service: " + firstLine(e));
        }
        out.println("removed service " + WindowsService.NAME);
        return 0;
    }

    /** The first line of a failure's message (JNA's "cannot load the library" has one per place it looked). */
    static String firstLine(Throwable e) {
        String message = String.valueOf(e.getMessage()).strip();
        int end = message.indexOf('\n');
        return (end < 0 ? message : message.substring(0, end)).strip();
    }

    /** Prints {@code dozor-agent: MESSAGE} on stderr; returns {@code code}. */
    static int error(PrintWriter err, int code, String message) {
        err.println("dozor-agent: " + message);
        err.flush();
        return code;
    }

    /** {@code "java.exe" FLAGS -jar "dozor-agent.jar" service --config "agent.ini"}. */
    static String serviceCommandLine(Path java, String jvmFlags, Path jar, Path ini) {
        String flags = jvmFlags.isBlank() ? " " : " " + jvmFlags.trim() + " ";
        return "\"" + java + "\"" + flags + "-jar \"" + jar + "\" service --config \"" + ini + "\"";
    }

    private static Path jar() {
        try {
            return Path.of(Main.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the agent jar", e);
        }
    }
}
