package io.dozor.agent;

import java.io.PrintWriter;
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
 * {@code java -jar dozor-agent.jar run --config FILE.ini}. Usage and configuration errors: exit status 2 and
 * one line on stderr. No logger exists before the settings are read, so that {@code [log] dir} can set
 * {@code dozor.log.dir} for logback.
 */
@Command(name = "dozor-agent", mixinStandardHelpOptions = true, version = "dozor-agent 0.1.0",
        description = "Reports launches of watched programs to the Dozor server.",
        subcommands = Main.Run.class)
public final class Main implements Callable<Integer> {

    static final int USAGE = 2;
    static final String LOG_DIR_PROPERTY = "dozor.log.dir";
    static final String LOGSTASH_PROPERTY = "dozor.log.logstash";

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

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the agent until stopped.")
    static final class Run implements Callable<Integer> {

        static volatile boolean running;

        @Option(names = "--config", required = true, paramLabel = "FILE", description = "agent settings (INI)")
        Path config;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            AgentConfig settings;
            try {
                settings = AgentConfig.load(config);
            } catch (ConfigException e) {
                spec.commandLine().getErr().println("dozor-agent: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return USAGE;
            }
            if (settings.logDir() != null) {
                System.setProperty(LOG_DIR_PROPERTY, settings.logDir().toString());
            }
            if (settings.logstash() != null) {
                System.setProperty(LOGSTASH_PROPERTY, settings.logstash());
            }
            Logger log = LoggerFactory.getLogger(Main.class); // the first logger: after dozor.log.dir is set
            Agent agent = new Agent(settings, new PortableProcessSource(), Clock.systemDefaultZone());
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
}
