package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Repeated warnings counted per minute of monotonic time; one stack trace per distinct cause. */
class RepeatedLogFilterTest {

    private final AtomicLong nanos = new AtomicLong(-5_000_000_000L); // any origin, even negative
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private Logger log;

    @BeforeEach
    void setUp() {
        LoggerContext context = new LoggerContext();
        RepeatedLogFilter filter = new RepeatedLogFilter(nanos::get);
        filter.setContext(context);
        filter.start();
        context.addTurboFilter(filter);
        lines.setContext(context);
        lines.start();
        log = context.getLogger("io.dozor.agent.Test");
        log.addAppender(lines);
    }

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void theFirstIsWrittenInFullThenACountAMinute() {
        for (int i = 0; i < 700; i++) { // a full disk failing every poll for a while
            log.warn("cannot write [file={}, n={}]", "spool.db", i);
            advance(Duration.ofMillis(100));
        }

        // 70 s: the first, and the first after the minute with the count of those not written
        assertThat(lines.list)
                .extracting(ILoggingEvent::getFormattedMessage)
                .containsExactly(
                        "cannot write [file=spool.db, n=0]",
                        "cannot write [file=spool.db, n=600] [repeated 599 times in the last 60 s]");
    }

    @Test
    void otherMessagesInfoLinesAndOtherLoggersAreNotHeldBack() {
        log.warn("one {}", 1);
        log.warn("another {}", 1);
        log.info("launch detected {}", 1);
        log.info("launch detected {}", 2);
        log.getLoggerContext().getLogger("other").addAppender(lines);
        log.getLoggerContext().getLogger("other").warn("one {}", 1);

        assertThat(lines.list).hasSize(5);
    }

    @Test
    void aStackTraceIsWrittenOncePerCause() {
        IOException full = new IOException("No space left on device");
        log.warn("cannot write [error={}]", full.toString(), full);
        log.error("cannot flush [error={}]", full.toString(), full);
        IOException other = new IOException("Input/output error");
        log.error("cannot flush [error={}]", other.toString(), other);
        advance(Duration.ofMinutes(2));
        log.error("cannot flush [error={}]", other.toString(), other);

        assertThat(lines.list)
                .extracting(e -> e.getThrowableProxy() == null
                        ? null
                        : e.getThrowableProxy().getMessage())
                .containsExactly("No space left on device", null, "Input/output error");
        assertThat(lines.list.get(1).getFormattedMessage())
                .isEqualTo("cannot flush [error=java.io.IOException: "
                        + "No space left on device] [stack trace written before: java.io.IOException]");
        assertThat(lines.list.get(2).getFormattedMessage())
                .as("the same pattern within the minute was counted; a new cause has its trace")
                .startsWith("cannot flush [error=java.io.IOException: Input/output error]")
                .contains("[repeated 1 times in the last 60 s]");
    }

    @Test
    void aWallClockJumpDoesNotMatterOnlyMonotonicTimeDoes() {
        log.warn("cannot write");
        advance(Duration.ofSeconds(59)); // whatever the wall clock did meanwhile (an hour back, an hour ahead)
        log.warn("cannot write");
        assertThat(lines.list).hasSize(1);
        advance(Duration.ofSeconds(1));
        log.warn("cannot write");
        assertThat(lines.list).hasSize(2);
    }
}
