package io.dozor.agent;

import static io.dozor.agent.SqliteSpoolTest.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dozor.testkit.SmallDisk;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The spool under the PC's faults: a full disk (a real small tmpfs), corrupt or unreadable files. */
class SqliteSpoolFaultsTest {

    @TempDir
    Path dir;

    private final AtomicLong nanos = new AtomicLong();
    private final Ticker ticker = nanos::get;
    private final Clock clock = Clock.fixed(Instant.parse("2026-12-02T01:02:03Z"), ZoneOffset.UTC);
    private final List<SqliteSpool> open = new ArrayList<>();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private SmallDisk disk;

    @BeforeEach
    void captureLogs() {
        logs.start();
        ((Logger) LoggerFactory.getLogger(SqliteSpool.class)).addAppender(logs);
    }

    @AfterEach
    void cleanUp() {
        open.forEach(SqliteSpool::close);
        ((Logger) LoggerFactory.getLogger(SqliteSpool.class)).detachAppender(logs);
        if (disk != null) {
            disk.close();
        }
    }

    private SqliteSpool spool(Path where) {
        SqliteSpool spool = SqliteSpool.open(where, 1 << 20, false, ticker, clock);
        open.add(spool);
        return spool;
    }

    private void reopen(SqliteSpool spool) {
        spool.close();
        open.remove(spool);
    }

    private List<ILoggingEvent> lines(Level level) {
        return logs.list.stream().filter(e -> e.getLevel() == level).toList();
    }

    private Path smallDisk() {
        disk = SmallDisk.mountOrSkip(dir.resolve("small"), 200, reason -> assumeTrue(false, reason));
        return disk.dir();
    }

    private void afterRetry() {
        nanos.addAndGet(SqliteSpool.RETRY.toNanos());
    }

    @Test
    void aFullDiskKeepsLaunchesInMemoryAndTheSpoolRecoversByItselfLosingAndDoublingNothing() {
        Path spoolDir = smallDisk();
        SqliteSpool spool = spool(spoolDir);
        List<LaunchEvent> before = List.of(event(1), event(2), event(3));
        before.forEach(e -> assertThat(spool.offer(e)).isTrue());

        disk.fill();
        List<LaunchEvent> during = List.of(event(11), event(12), event(13));
        during.forEach(e -> assertThat(spool.offer(e)).as("not persisted").isFalse());
        assertThat(spool.error()).isEqualTo("disk full");
        assertThat(spool.size()).isEqualTo(6);
        assertThat(lines(Level.WARN))
                .as("one line for the failure, none per launch")
                .hasSize(1);

        // the shipper delivers one launch from memory: it goes, nothing is written
        List<LaunchEvent> batch = spool.peek(500);
        assertThat(batch)
                .as("the file cannot be read while broken: memory only")
                .containsExactlyElementsOf(during);
        spool.acknowledge(List.of(during.get(0)));
        assertThat(spool.size()).isEqualTo(5);

        // reopening truncates the WAL, which may free enough for the memory's launches; fill what is left
        afterRetry();
        spool.recover();
        disk.fill();
        assertThat(spool.offer(event(14))).isFalse();
        afterRetry();
        spool.recover();
        assertThat(spool.error()).as("still full").isEqualTo("disk full");

        disk.free();
        spool.recover();
        assertThat(spool.error()).as("not before the retry time (monotonic)").isEqualTo("disk full");
        afterRetry();
        spool.recover();
        assertThat(spool.error()).isNull();
        assertThat(lines(Level.INFO))
                .extracting(ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> m.startsWith("spool works again"));
        assertThat(spool.offer(event(21))).isTrue();
        assertThat(spool.unpersisted()).isZero();

        reopen(spool);
        SqliteSpool again = spool(spoolDir);
        assertThat(again.peek(500)).extracting(LaunchEvent::pid).containsExactly(1L, 2L, 3L, 12L, 13L, 14L, 21L);
    }

    @Test
    void beyondTheMemoryBufferTheOldestLaunchesAreLostAndCountedExactly() {
        Path spoolDir = smallDisk();
        SqliteSpool spool = spool(spoolDir);
        spool.offer(event(1));
        disk.fill();
        for (int i = 0; i < SqliteSpool.MEMORY_EVENTS + 3; i++) {
            spool.offer(event(100 + i));
        }
        assertThat(spool.unpersisted()).isEqualTo(3);
        assertThat(spool.size()).isEqualTo(1 + SqliteSpool.MEMORY_EVENTS);

        disk.free();
        afterRetry();
        spool.recover();
        assertThat(spool.error()).isNull();
        reopen(spool);

        SqliteSpool again = spool(spoolDir);
        assertThat(again.unpersisted())
                .as("the count is saved once the file can be written")
                .isEqualTo(3);
        List<LaunchEvent> kept = again.peek(500);
        assertThat(kept).hasSize(1 + SqliteSpool.MEMORY_EVENTS);
        assertThat(kept.get(1).pid()).as("the three oldest of memory were lost").isEqualTo(103);
    }

    @Test
    void aDeliveredBatchWhoseDeletionCannotBeWrittenIsDeletedOnRecoveryNotSentAgain() {
        Path spoolDir = smallDisk();
        SqliteSpool spool = spool(spoolDir);
        for (int i = 1; i <= 3; i++) {
            spool.offer(event(i));
        }
        List<LaunchEvent> batch = spool.peek(500);
        disk.fill();
        spool.acknowledge(batch); // may fail to write: then remembered
        assertThat(spool.size()).isZero();

        disk.free();
        afterRetry();
        spool.recover();
        spool.offer(event(4));
        assertThat(spool.peek(500)).extracting(LaunchEvent::pid).containsExactly(4L);
    }

    @Test
    void garbageAtStartIsMovedAsideWithOneErrorAndAFreshSpoolWorks() throws Exception {
        Files.writeString(dir.resolve(SqliteSpool.FILE_NAME), "this is not a database, just text ".repeat(200));

        SqliteSpool spool = spool(dir);

        assertThat(spool.error()).isNull();
        assertThat(spool.offer(event(1))).isTrue();
        Path aside = dir.resolve("spool.db.corrupt-20261202T010203Z");
        assertThat(aside).exists();
        assertThat(Files.readString(aside, StandardCharsets.UTF_8)).startsWith("this is not a database");
        assertThat(lines(Level.ERROR)).hasSize(1);
        assertThat(lines(Level.ERROR).get(0).getFormattedMessage())
                .startsWith("spool unusable, moved aside and a fresh one started")
                .contains("moved_to=spool.db.corrupt-20261202T010203Z", "reason=corrupt", "lost_events=unknown");
    }

    @Test
    void aTruncatedSpoolIsMovedAsideAndItsEventsCountedAsDropped() throws Exception {
        SqliteSpool first = spool(dir);
        for (int i = 0; i < 300; i++) {
            first.offer(event(i));
        }
        reopen(first);
        Path file = dir.resolve(SqliteSpool.FILE_NAME);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }

        SqliteSpool spool = spool(dir);

        assertThat(spool.error()).isNull();
        assertThat(spool.size()).isZero();
        assertThat(lines(Level.ERROR)).hasSize(1);
        String line = lines(Level.ERROR).get(0).getFormattedMessage();
        assertThat(line).contains("reason=corrupt");
        // the count survives only when SQLite can still count the rows of the damaged file
        String lost = line.replaceAll(".*lost_events=(\\w+).*", "$1");
        assertThat(spool.dropped()).isEqualTo("unknown".equals(lost) ? 0 : Long.parseLong(lost));
        assertThat(spool.offer(event(1))).isTrue();
        assertThat(aside()).hasSize(1);
    }

    @Test
    void somethingUnreadableAtThePathIsMovedAside() throws Exception {
        Files.createDirectories(dir.resolve(SqliteSpool.FILE_NAME).resolve("inside"));

        SqliteSpool spool = spool(dir);

        assertThat(spool.offer(event(1))).isTrue();
        assertThat(aside())
                .singleElement()
                .satisfies(p -> assertThat(p.resolve("inside")).isDirectory());
        assertThat(lines(Level.ERROR)).hasSize(1);
    }

    @Test
    void aSpoolFoundCorruptWhenReopenedWhileRunningIsMovedAsideItsEventsCountedAndTheLaunchesKept() throws Exception {
        Path spoolDir = smallDisk();
        SqliteSpool spool = spool(spoolDir);
        spool.offer(event(1));
        spool.offer(event(2));
        reopen(spool); // checkpointed: the file itself holds the events
        spool = spool(spoolDir);
        disk.fill();
        assertThat(spool.offer(event(3)))
                .as("fails: the connection is closed, to be reopened")
                .isFalse();
        // meanwhile the file is damaged (as a power cut can)
        try (RandomAccessFile f =
                new RandomAccessFile(spoolDir.resolve(SqliteSpool.FILE_NAME).toFile(), "rw")) {
            f.seek(0);
            f.write("garbage garbage garbage garbage garbage".getBytes(StandardCharsets.US_ASCII));
        }
        disk.free();

        afterRetry();
        spool.recover();

        assertThat(spool.error()).as(logs.list.toString()).isNull();
        assertThat(spool.dropped()).as(logs.list.toString()).isEqualTo(2);
        assertThat(spool.peek(10)).extracting(LaunchEvent::pid).containsExactly(3L);
        assertThat(lines(Level.ERROR)).hasSize(1);
        assertThat(lines(Level.ERROR).get(0).getFormattedMessage()).contains("lost_events=2");
        try (Stream<Path> files = Files.list(spoolDir)) {
            assertThat(files.map(p -> p.getFileName().toString())).contains("spool.db.corrupt-20261202T010203Z");
        }
        reopen(spool);
        assertThat(spool(spoolDir).dropped()).as("saved in the fresh file").isEqualTo(2);
    }

    @Test
    void aSpoolThatCannotBeOpenedAtAllStillStartsAndKeepsLaunchesInMemory() throws Exception {
        Path notADirectory = dir.resolve("file");
        Files.writeString(notADirectory, "x");

        SqliteSpool spool = spool(notADirectory.resolve("spool"));

        assertThat(spool.error()).isEqualTo("cannot open");
        assertThat(spool.offer(event(1))).isFalse();
        assertThat(spool.peek(10)).extracting(LaunchEvent::pid).containsExactly(1L);
        assertThat(spool.awaitNonEmpty(Duration.ZERO)).isTrue();
    }

    private List<Path> aside() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("spool.db.corrupt-")
                            && !p.getFileName().toString().endsWith("-wal"))
                    .toList();
        }
    }
}
