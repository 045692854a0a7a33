package io.dozor.agent;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.util.Duration;
import ch.qos.logback.core.util.FileSize;
import ch.qos.logback.core.util.StatusPrinter2;
import io.dozor.common.PrivateFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.regex.Pattern;
import net.logstash.logback.appender.LogstashTcpSocketAppender;

/**
 * The agent's logging, set up in code rather than from a {@code logback.xml}: logback's XML configuration
 * (Joran and the JDK's XML parser, ~400 classes) was the largest single item of the agent's memory that is
 * not the JVM itself (BENCHMARKS.md); the JSON lines come from {@link AgentJsonEncoder} for the same reason.
 * Found by logback through {@code META-INF/services}.
 *
 * <ul>
 *   <li>a readable console on stderr;</li>
 *   <li>JSON lines for Logstash in {@code [log] dir} ({@value #DIR_PROPERTY}): every line in
 *       {@code dozor-agent.json}, warnings and errors also in {@code dozor-agent-errors.json}, rolled daily and at
 *       20 MB; field names as {@code logstash/pipeline/dozor.conf} and {@code elasticsearch/logs-template.json}
 *       expect them ({@code @timestamp level message logger thread service host});</li>
 *   <li>with {@code [log] logstash = host:port} ({@value #LOGSTASH_PROPERTY}) the same JSON also to Logstash's
 *       tcp {@code json_lines} input.</li>
 * </ul>
 * Repeated warnings are counted rather than written ({@link RepeatedLogFilter}), and a log directory on a
 * full disk only loses lines: logback's file output stream retries on its own, detection goes on.
 * Log files and a log directory the agent creates are private to its user ({@link PrivateFiles}).
 * Agent tokens (JWTs) and URL passwords never reach a log, whatever code logs them. {@code Main} sets the
 * properties from the settings before the first logger exists. An administrator who wants another
 * configuration passes {@code -Dlogback.configurationFile=FILE}; logback's own XML configuration then applies.
 */
public final class AgentLogging extends ContextAwareBase implements Configurator {

    public static final String DIR_PROPERTY = "dozor.log.dir";
    public static final String LOGSTASH_PROPERTY = "dozor.log.logstash";
    public static final String JSON_FILE = "dozor-agent.json";
    public static final String ERRORS_FILE = "dozor-agent-errors.json";
    static final String SERVICE = "dozor-agent";
    static final String MASK = "****";
    /** A JWT, or the password of a URL's user info. */
    static final String SECRETS =
            "eyJ[A-Za-z0-9_-]+\\.eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+|(?<=://[^:/@\\s]{1,128}:)[^@/\\s]+(?=@)";

    static final Pattern SECRET_PATTERN = Pattern.compile(SECRETS);

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        String dir = System.getProperty(DIR_PROPERTY, "logs");
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        RepeatedLogFilter repeats = new RepeatedLogFilter(Ticker.SYSTEM);
        repeats.setContext(context);
        repeats.start();
        context.addTurboFilter(repeats);
        root.addAppender(console(context));
        root.addAppender(file(context, dir, JSON_FILE, 14, "500MB", null));
        root.addAppender(file(context, dir, ERRORS_FILE, 30, "200MB", Level.WARN));
        String logstash = System.getProperty(LOGSTASH_PROPERTY);
        if (logstash != null) {
            root.addAppender(logstash(context, logstash));
        }
        new StatusPrinter2().printInCaseOfErrorsOrWarnings(context);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static Appender<ILoggingEvent> console(LoggerContext context) {
        String secrets = SECRETS.replace("'", "\\'");
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{0} - "
                + "%replace(%msg){'" + secrets + "', '" + MASK + "'}%n"
                + "%replace(%ex){'" + secrets + "', '" + MASK + "'}%nopex");
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName("CONSOLE");
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        return appender;
    }

    private static Appender<ILoggingEvent> file(
            LoggerContext context, String dir, String name, int days, String cap, Level threshold) {
        String base = name.substring(0, name.length() - ".json".length());
        RollingFileAppender<ILoggingEvent> appender = new PrivateRollingFileAppender();
        appender.setContext(context);
        appender.setName(base);
        appender.setFile(dir + "/" + base + ".json");
        SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
        policy.setContext(context);
        policy.setParent(appender);
        policy.setFileNamePattern(dir + "/" + base + ".%d{yyyy-MM-dd}.%i.json");
        policy.setMaxFileSize(FileSize.valueOf("20MB"));
        policy.setMaxHistory(days);
        policy.setTotalSizeCap(FileSize.valueOf(cap));
        policy.start();
        appender.setRollingPolicy(policy);
        appender.setEncoder(json(context));
        if (threshold != null) {
            ThresholdFilter filter = new ThresholdFilter();
            filter.setContext(context);
            filter.setLevel(threshold.levelStr);
            filter.start();
            appender.addFilter(filter);
        }
        appender.start();
        return appender;
    }

    /**
     * Creates each log file (at start and after every rollover) private before logback opens it; the archives
     * are renamed active files (no compression), so they stay private too.
     */
    static final class PrivateRollingFileAppender extends RollingFileAppender<ILoggingEvent> {
        @Override
        public void openFile(String fileName) throws IOException {
            Path file = Path.of(fileName);
            if (file.toAbsolutePath().getParent() != null) {
                PrivateFiles.createDirectories(file.toAbsolutePath().getParent());
            }
            PrivateFiles.createFileIfMissing(file);
            super.openFile(fileName);
        }
    }

    private static Appender<ILoggingEvent> logstash(LoggerContext context, String destination) {
        LogstashTcpSocketAppender appender = new LogstashTcpSocketAppender();
        appender.setContext(context);
        appender.setName("LOGSTASH");
        appender.addDestination(destination);
        appender.setReconnectionDelay(Duration.buildBySeconds(5));
        appender.setShutdownGracePeriod(Duration.buildBySeconds(2));
        appender.setEncoder(json(context));
        appender.start();
        return appender;
    }

    /** JSON lines with the pipeline's field names, the service and host, and secrets masked. */
    static AgentJsonEncoder json(LoggerContext context) {
        AgentJsonEncoder encoder = new AgentJsonEncoder(SERVICE, hostName(context), SECRET_PATTERN, MASK);
        encoder.setContext(context);
        encoder.start();
        return encoder;
    }

    private static String hostName(LoggerContext context) {
        String host = context.getProperty(ch.qos.logback.core.CoreConstants.HOSTNAME_KEY);
        return host == null ? "unknown" : host;
    }
}
