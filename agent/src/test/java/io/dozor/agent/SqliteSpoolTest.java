package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteSpoolTest {

    @TempDir
    Path dir;

    private final List<SqliteSpool> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        open.forEach(SqliteSpool::close);
    }

    private SqliteSpool spool(long maxBytes) {
        SqliteSpool spool = SqliteSpool.open(dir, maxBytes);
        open.add(spool);
        return spool;
    }

    static LaunchEvent event(int pid) {
        return new LaunchEvent(
                UUID.randomUUID(),
                OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"),
                "ivanov",
                "chrome.exe",
                pid,
                "C:\\Apps\\chrome.exe",
                "PC-01");
    }

    private static int eventBytes() {
        return EventJson.event(event(1000)).length;
    }

    @Test
    void keepsEventsInOrderUntilAcknowledged() {
        SqliteSpool spool = spool(1 << 20);
        List<LaunchEvent> events = List.of(event(1001), event(1002), event(1003));
        events.forEach(spool::offer);

        assertThat(spool.peek(2)).containsExactly(events.get(0), events.get(1));
        spool.acknowledge(spool.peek(2));

        assertThat(spool.size()).isEqualTo(1);
        assertThat(spool.peek(10)).containsExactly(events.get(2));
    }

    @Test
    void rememberedLaunchesOutliveAcknowledgementAndReopeningUntilTheirProcessIsGone() {
        SqliteSpool first = SqliteSpool.open(dir, 1 << 20, true);
        open.add(first);
        first.offer(event(1001));
        first.offer(event(1002));
        first.acknowledge(first.peek(10));
        first.close();
        open.remove(first);

        SqliteSpool again = spool(1 << 20);
        Instant start = OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00").toInstant();
        assertThat(again.reported())
                .containsExactlyInAnyOrder(new ProcessInfo.Key(1001, start), new ProcessInfo.Key(1002, start));

        // 1001 still runs (its start read 0.4 s later this time); 1002 is gone; 1003 is someone else
        again.forgetReportedExcept(
                Set.of(new ProcessInfo.Key(1001, start.plusMillis(400)), new ProcessInfo.Key(1003, start)));

        assertThat(again.reported()).containsExactly(new ProcessInfo.Key(1001, start));
        again.forgetReportedExcept(Set.of(new ProcessInfo.Key(1001, start.plusMillis(1500))));
        assertThat(again.reported())
                .as("1.5 s apart: another process on that pid")
                .isEmpty();
    }

    @Test
    void launchesAreNotRememberedUnlessAsked() {
        SqliteSpool spool = spool(1 << 20);
        spool.offer(event(1001));

        assertThat(spool.reported()).isEmpty();
    }

    @Test
    void unacknowledgedEventsAreThereAfterReopening() {
        SqliteSpool first = spool(1 << 20);
        LaunchEvent a = event(1001);
        LaunchEvent b = event(1002);
        first.offer(a);
        first.offer(b);
        first.acknowledge(List.of(a));
        first.close();

        SqliteSpool second = spool(1 << 20);
        assertThat(second.size()).isEqualTo(1);
        assertThat(second.peek(10)).containsExactly(b);
    }

    @Test
    void anOfferedEventSurvivesAKilledProcess() throws Exception {
        // a child JVM offers three events, then halts without closing anything (like kill -9)
        Process child = new ProcessBuilder(
                        ProcessHandle.current().info().command().orElse("java"),
                        "-cp",
                        System.getProperty("java.class.path"),
                        SpoolWriter.class.getName(),
                        dir.toString(),
                        "3")
                .redirectErrorStream(true)
                .start();
        String out = new String(child.getInputStream().readAllBytes());
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(out).isEqualTo(137);

        SqliteSpool spool = spool(1 << 20);
        assertThat(spool.peek(10)).extracting(LaunchEvent::pid).containsExactly(1L, 2L, 3L);
    }

    /** Offers N events to the spool in args[0], then halts the JVM at once. */
    public static final class SpoolWriter {
        public static void main(String[] args) {
            SqliteSpool spool = SqliteSpool.open(Path.of(args[0]), 1 << 20);
            for (int i = 1; i <= Integer.parseInt(args[1]); i++) {
                spool.offer(event(i));
            }
            Runtime.getRuntime().halt(137);
        }
    }

    @Test
    void beyondItsBoundItDropsTheOldestAndCountsThemAcrossRestarts() {
        long max = eventBytes() * 3L + 10;
        SqliteSpool spool = spool(max);
        List<LaunchEvent> events = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            events.add(event(1000 + i));
            assertThat(spool.offer(events.get(i))).isTrue();
        }

        assertThat(spool.peek(10)).containsExactlyElementsOf(events.subList(2, 5));
        assertThat(spool.dropped()).isEqualTo(2);
        spool.close();

        SqliteSpool reopened = spool(max);
        assertThat(reopened.dropped()).isEqualTo(2);
        reopened.offer(event(2000));
        assertThat(reopened.dropped()).isEqualTo(3);
        assertThat(reopened.size()).isEqualTo(3);
    }

    @Test
    void theSameEventOfferedTwiceIsKeptOnce() {
        SqliteSpool spool = spool(1 << 20);
        LaunchEvent e = event(1001);
        spool.offer(e);
        spool.offer(e);

        assertThat(spool.size()).isEqualTo(1);
    }

    @Test
    void acknowledgingADroppedEventChangesNothing() {
        SqliteSpool spool = spool(eventBytes() + 10L);
        LaunchEvent first = event(1001);
        spool.offer(first);
        List<LaunchEvent> batch = spool.peek(10);
        LaunchEvent second = event(1002);
        spool.offer(second); // drops the first while its batch is in flight

        spool.acknowledge(batch);

        assertThat(spool.peek(10)).containsExactly(second);
    }

    @Test
    void awaitNonEmptyWakesUpOnOfferAndTimesOutWhenEmpty() throws Exception {
        SqliteSpool spool = spool(1 << 20);
        assertThat(spool.awaitNonEmpty(Duration.ofMillis(20))).isFalse();

        Thread.ofVirtual().start(() -> spool.offer(event(1)));

        assertThat(spool.awaitNonEmpty(Duration.ofSeconds(10))).isTrue();
    }
}
