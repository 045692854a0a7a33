package io.dozor.agent;

import static io.dozor.testkit.FileModes.mode;
import static io.dozor.testkit.FileModes.posix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Verifies that what the agent creates (directories, spool files with SQLite's companions, log files before and
 * after a rollover) is private to its user (through {@link io.dozor.common.PrivateFiles}, tested on its own in the
 * common module). POSIX file systems only: on Windows the folder's ACL, set by install-service.ps1, is inherited.
 */
class PrivateAgentFilesTest {

    @TempDir
    Path dir;

    @BeforeEach
    void onPosix() {
        assumeTrue(posix(dir), "the file system has POSIX permissions");
    }

    @Test
    void theSpoolItsWriteAheadLogAndSharedMemoryAreTheOwnersOnly() throws IOException {
        Path spoolDir = dir.resolve("state/spool");
        SqliteSpool spool = SqliteSpool.open(spoolDir, 1 << 20);
        try {
            spool.offer(SqliteSpoolTest.event(1001));
            List<Path> files;
            try (Stream<Path> list = Files.list(spoolDir)) {
                files = list.toList();
            }
            assertThat(files)
                    .extracting(p -> p.getFileName().toString())
                    .contains(SqliteSpool.FILE_NAME, SqliteSpool.FILE_NAME + "-wal", SqliteSpool.FILE_NAME + "-shm");
            assertThat(files).allSatisfy(PrivateAgentFilesTest::isPrivateFile);
            assertThat(mode(spoolDir)).isEqualTo("rwx------");
            assertThat(mode(spoolDir.getParent())).isEqualTo("rwx------");
        } finally {
            spool.close();
        }
    }

    @Test
    void logFilesAreTheOwnersOnlyBeforeAndAfterARollover() throws IOException {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Path logs = dir.resolve("new/logs");
        // the agent's appender; a rollover on demand needs a fixed-window policy (the agent's rolls by size and
        // day), the same renaming of the active file and opening of a new one
        var appender = new AgentLogging.PrivateRollingFileAppender();
        appender.setContext(context);
        appender.setName("private-files-test");
        appender.setFile(logs.resolve(AgentLogging.JSON_FILE).toString());
        FixedWindowRollingPolicy policy = new FixedWindowRollingPolicy();
        policy.setContext(context);
        policy.setParent(appender);
        policy.setFileNamePattern(logs.resolve("dozor-agent.%i.json").toString());
        policy.start();
        appender.setRollingPolicy(policy);
        SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
        trigger.setContext(context);
        trigger.start();
        appender.setTriggeringPolicy(trigger);
        appender.setEncoder(AgentLogging.json(context));
        appender.start();
        try {
            appender.doAppend(event(context, "before the rollover"));
            appender.rollover();
            appender.doAppend(event(context, "after the rollover"));
        } finally {
            appender.stop();
        }

        List<Path> files;
        try (Stream<Path> list = Files.list(logs)) {
            files = list.toList();
        }
        assertThat(files).hasSize(2).allSatisfy(PrivateAgentFilesTest::isPrivateFile);
        assertThat(Files.readString(logs.resolve(AgentLogging.JSON_FILE)))
                .contains("after the rollover")
                .doesNotContain("before the rollover");
        assertThat(mode(logs)).isEqualTo("rwx------");
        assertThat(mode(logs.getParent())).isEqualTo("rwx------");
    }

    private static LoggingEvent event(LoggerContext context, String message) {
        return new LoggingEvent(
                PrivateAgentFilesTest.class.getName(), context.getLogger("test"), Level.INFO, message, null, null);
    }

    static void isPrivateFile(Path file) {
        assertThat(mode(file)).as(file.toString()).isEqualTo("rw-------");
    }
}
