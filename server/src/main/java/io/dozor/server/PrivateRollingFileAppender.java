package io.dozor.server;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.RollingFileAppender;
import io.dozor.common.PrivateFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * logback's rolling file appender, but each log file (at start and after every rollover) and a missing log
 * directory are created private ({@link PrivateFiles}) before logback opens them. The archives are the renamed
 * active files (logback.xml rolls without compression: a compressed archive would be a new file logback creates
 * with the process's umask), so they stay private too.
 */
public final class PrivateRollingFileAppender extends RollingFileAppender<ILoggingEvent> {
    @Override
    public void openFile(String fileName) throws IOException {
        Path file = Path.of(fileName).toAbsolutePath();
        if (file.getParent() != null) {
            PrivateFiles.createDirectories(file.getParent());
        }
        PrivateFiles.createFileIfMissing(file);
        super.openFile(fileName);
    }
}
