package io.dozor.server;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * Points the JSON log files at the configured directory and, when configured, the Logstash TCP
 * appender at its host:port; reloads logback.xml even if a library logged before.
 */
final class Logging {
    static final String LOG_DIR_PROPERTY = "dozor.log.dir";
    static final String LOGSTASH_PROPERTY = "dozor.log.logstash";

    private Logging() {}

    static synchronized void configure(Path dir, Optional<String> logstash) {
        String value = dir.toAbsolutePath().toString();
        if (value.equals(System.getProperty(LOG_DIR_PROPERTY))
                && Objects.equals(logstash.orElse(null), System.getProperty(LOGSTASH_PROPERTY))) {
            return;
        }
        System.setProperty(LOG_DIR_PROPERTY, value);
        logstash.ifPresentOrElse(
                v -> System.setProperty(LOGSTASH_PROPERTY, v), () -> System.clearProperty(LOGSTASH_PROPERTY));
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.reset();
            try {
                new ContextInitializer(context).autoConfig();
            } catch (JoranException e) {
                throw new IllegalStateException("logging configuration failed: " + e.getMessage(), e);
            }
        }
    }
}
