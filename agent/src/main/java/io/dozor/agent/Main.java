package io.dozor.agent;

import io.dozor.agent.windows.WindowsService;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar dozor-agent.jar run --config FILE.ini}; on Windows also {@code install-service},
 * {@code uninstall-service} and {@code service} (what the service control manager starts). Usage and
 * configuration errors: exit status 2 and one line on stderr. No logger exists before the settings are
 * read, so that {@code [log] dir} can set {@code dozor.log.dir} for logback.
 */
@Command(name = "dozor-agent", mixinStandardHelpOptions = true, version = "dozor-agent " + Agent.VERSION,
        description = "Reports launches of watched programs to the Dozor server.",
        subcommands = {Main.Run.class, Main.Service.class, Main.InstallService.class, Main.UninstallService.class})
public final class Main implements Callable<Integer> {

    static final int USAGE = 2;
    static final String LOG_DIR_PROPERTY = AgentLogging.DIR_PROPERTY;
    static final String LOGSTASH_PROPERTY = AgentLogging.LOGSTASH_PROPERTY;
    /** The launcher passes its JVM flags here so that install-service registers the same ones. */
    static final String JVM_FLAGS_PROPERTY = "dozor.jvm.flags";

    public static void main(String[] args) {
        int status = execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        if (status != 0 || !Run.running) {
            System.exit(status);
        }
    }

    /** Parses and runs the command line; returns the exit status. */
    static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, a) -> {
            // a misspelt option also leaves a required one missing: name the misspelling
            List<String> unmatched = e.getCommandLine().getUnmatchedArguments();
            String message = unmatched.isEmpty() || !(e instanceof CommandLine.MissingParameterException)
                    ? e.getMessage()
                    : "unknown option or argument: " + unmatched.get(0);
            err.println("dozor-agent: " + message.lines().findFirst().orElse("usage error"));
            err.flush();
            return USAGE;
        });
        return cli.execute(args);
    }

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(new CommandLine(this), "missing command (expected: run)");
    }

    /** What the commands that run the agent share: read the settings, then build the agent. */
    abstract static class AgentCommand implements Callable<Integer> {

        @Option(names = "--config", required = true, paramLabel = "FILE", description = "agent settings (INI)")
        Path config;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        Logger log;

        /** The agent of the settings, or null after printing why not (the status is then in {@link #status}). */
        Agent agent() {
            AgentConfig settings;
            try {
                settings = AgentConfig.load(config);
            } catch (ConfigException e) {
                return fail(USAGE, e.getMessage());
            }
            if (settings.logDir() != null) {
                System.setProperty(LOG_DIR_PROPERTY, settings.logDir().toString());
            }
            if (settings.logstash() != null) {
                System.setProperty(LOGSTASH_PROPERTY, settings.logstash());
            }
            log = LoggerFactory.getLogger(Main.class); // the first logger: after dozor.log.dir is set
            try {
                return new Agent(settings, ProcessSources.forThisSystem(), Clock.systemDefaultZone())
                        .reloadingFrom(config.toAbsolutePath());
            } catch (IllegalStateException e) { // the spool cannot be opened
                log.error("agent cannot start [error={}]", e.getMessage(), e);
                return fail(1, e.getMessage());
            }
        }

        int status = 0;

        private Agent fail(int code, String message) {
            status = error(spec, code, message);
            return null;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the agent until stopped.")
    static final class Run extends AgentCommand {

        static volatile boolean running;

        @Override
        public Integer call() throws InterruptedException {
            Agent agent = agent();
            if (agent == null) {
                return status;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                log.info("shutdown requested");
                agent.close();
                stopped.countDown();
            }, "dozor-shutdown"));
            agent.start();
            running = true;
            stopped.await();
            return 0;
        }
    }

    @Command(name = "service", description = "Run as the Windows service (started by the service control manager).")
    static final class Service extends AgentCommand {

        @Override
        public Integer call() {
            Agent agent = agent();
            if (agent == null) {
                return status;
            }
            WindowsService.run(agent::start, agent::close);
            return 0;
        }
    }

    @Command(name = "install-service", mixinStandardHelpOptions = true,
            description = "Register the agent as an automatically started Windows service (as administrator).")
    static final class InstallService implements Callable<Integer> {

        @Option(names = "--config", required = true, paramLabel = "FILE", description = "agent settings (INI)")
        Path config;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Path ini = config.toAbsolutePath();
            try {
                AgentConfig.load(ini); // refuse to install a service that could not start
            } catch (ConfigException e) {
                return error(spec, USAGE, e.getMessage());
            }
            String commandLine = serviceCommandLine(Path.of(System.getProperty("java.home"), "bin", "java.exe"),
                    System.getProperty(JVM_FLAGS_PROPERTY, ""), jar(), ini);
            try {
                WindowsService.install(commandLine);
            } catch (IllegalStateException | UnsatisfiedLinkError | NoClassDefFoundError e) {
                return error(spec, 1, "cannot install the service: " + e.getMessage());
            }
            spec.commandLine().getOut().println("installed service " + WindowsService.NAME + ": " + commandLine);
            return 0;
        }
    }

    @Command(name = "uninstall-service", mixinStandardHelpOptions = true,
            description = "Stop and remove the Windows service (as administrator).")
    static final class UninstallService implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            try {
                WindowsService.uninstall();
            } catch (IllegalStateException | UnsatisfiedLinkError | NoClassDefFoundError e) {
                return error(spec, 1, "cannot remove the service: " + e.getMessage());
            }
            spec.commandLine().getOut().println("removed service " + WindowsService.NAME);
            return 0;
        }
    }

    /** Prints {@code dozor-agent: MESSAGE} on stderr; returns {@code code}. */
    static int error(CommandLine.Model.CommandSpec spec, int code, String message) {
        spec.commandLine().getErr().println("dozor-agent: " + message);
        spec.commandLine().getErr().flush();
        return code;
    }

    /** {@code "java.exe" FLAGS -jar "dozor-agent.jar" service --config "agent.ini"}. */
    static String serviceCommandLine(Path java, String jvmFlags, Path jar, Path ini) {
        String flags = jvmFlags.isBlank() ? " " : " " + jvmFlags.trim() + " ";
        return "\"" + java + "\"" + flags + "-jar \"" + jar + "\" service --config \"" + ini + "\"";
    }

    private static Path jar() {
        try {
            return Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the agent jar", e);
        }
    }
}
