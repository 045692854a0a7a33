package io.dozor.agent;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Marker;

/**
 * Keeps a fault from flooding the log (a full disk fails every write, every poll): of the WARN and ERROR
 * lines with the same logger, level and message pattern, the first is written in full; the repeats in the
 * next {@link #WINDOW} are counted, not written, and the first one after it is written with that count
 * ({@code [repeated N times in the last 60 s]}). A stack trace is written once per distinct cause (class,
 * message and throwing frame of the root cause); later lines with the same cause have the message only.
 * Windows are measured on a monotonic {@link Ticker}, so a wall-clock jump neither floods nor silences them.
 * Bounded: the {@value #MAX_KEYS} most recent patterns and causes are remembered.
 */
final class RepeatedLogFilter extends TurboFilter {

    static final Duration WINDOW = Duration.ofMinutes(1);
    static final int MAX_KEYS = 512;
    private static final String FQCN = RepeatedLogFilter.class.getName();
    /** Set while this filter writes a line itself, which must pass. */
    private static final ThreadLocal<Boolean> WRITING = ThreadLocal.withInitial(() -> false);

    private static final class Window {
        final long start;
        int repeats;

        Window(long start) {
            this.start = start;
        }
    }

    private final Ticker ticker;
    private final Map<String, Window> windows = bounded();
    private final Map<String, Boolean> traced = bounded();

    RepeatedLogFilter(Ticker ticker) {
        this.ticker = ticker;
    }

    private static <V> Map<String, V> bounded() {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > MAX_KEYS;
            }
        };
    }

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (level == null || !level.isGreaterOrEqual(Level.WARN) || format == null || WRITING.get()) {
            return FilterReply.NEUTRAL;
        }
        Throwable cause = t != null
                ? t
                : params != null && params.length > 0 && params[params.length - 1] instanceof Throwable last
                        ? last
                        : null;
        int repeats;
        boolean newTrace;
        synchronized (this) {
            long now = ticker.nanos();
            String key = logger.getName() + '\u0000' + level + '\u0000' + format;
            Window w = windows.get(key);
            if (w != null && now - w.start < WINDOW.toNanos()) {
                w.repeats++;
                return FilterReply.DENY;
            }
            repeats = w == null ? 0 : w.repeats;
            windows.put(key, new Window(now));
            newTrace = cause == null || traced.put(causeKey(cause), Boolean.TRUE) == null;
        }
        if (repeats == 0 && newTrace) {
            return FilterReply.NEUTRAL;
        }
        Object[] args = params == null ? new Object[0] : params;
        if (!newTrace && t == null && cause != null) {
            args = Arrays.copyOf(args, args.length - 1); // the trailing throwable: its trace was written
        }
        String text = format;
        if (!newTrace) {
            text += " [stack trace written before: " + cause.getClass().getName() + "]";
        }
        if (repeats > 0) {
            text += " [repeated " + repeats + " times in the last " + WINDOW.toSeconds() + " s]";
        }
        WRITING.set(true);
        try {
            logger.log(marker, FQCN, Level.toLocationAwareLoggerInteger(level), text, args, newTrace ? t : null);
        } finally {
            WRITING.set(false);
        }
        return FilterReply.DENY;
    }

    static String causeKey(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        StackTraceElement[] frames = root.getStackTrace();
        return root.getClass().getName() + ": " + root.getMessage() + " @ " + (frames.length > 0 ? frames[0] : "?");
    }
}
