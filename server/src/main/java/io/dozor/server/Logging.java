package io.dozor.server;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/** Points the JSON log files at the configured directory, even if a library logged before. */
final class Logging {
  static final String LOG_DIR_PROPERTY = "dozor.log.dir";

  private Logging() {}

  static void useLogDir(Path dir) {
    String value = dir.toAbsolutePath().toString();
    if (value.equals(System.getProperty(LOG_DIR_PROPERTY))) {
      return;
    }
    System.setProperty(LOG_DIR_PROPERTY, value);
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
