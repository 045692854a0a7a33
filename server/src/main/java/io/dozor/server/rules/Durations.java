package io.dozor.server.rules;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Short human durations: {@code 90s}, {@code 10m}, {@code 1h30m}, {@code 2d}, {@code 500ms}; bare numbers are seconds. */
public final class Durations {
    private static final Pattern WHOLE = Pattern.compile("(?:\\d{1,9}(?:ms|s|m|h|d))+|\\d{1,9}");
    private static final Pattern PART = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");
    static final Duration MAX = Duration.ofDays(3650);

    private Durations() {}

    /** Empty when the text is not a duration or exceeds ten years. */
    public static Optional<Duration> parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(java.util.Locale.ROOT);
        if (!WHOLE.matcher(t).matches()) {
            return Optional.empty();
        }
        if (t.chars().allMatch(Character::isDigit)) {
            Duration seconds = Duration.ofSeconds(Long.parseLong(t));
            return seconds.compareTo(MAX) > 0 ? Optional.empty() : Optional.of(seconds);
        }
        Duration total = Duration.ZERO;
        Matcher m = PART.matcher(t);
        while (m.find()) {
            long n = Long.parseLong(m.group(1));
            total = total.plus(
                    switch (m.group(2)) {
                        case "ms" -> Duration.ofMillis(n);
                        case "s" -> Duration.ofSeconds(n);
                        case "m" -> Duration.ofMinutes(n);
                        case "h" -> Duration.ofHours(n);
                        default -> Duration.ofDays(n);
                    });
            if (total.compareTo(MAX) > 0) {
                return Optional.empty();
            }
        }
        return Optional.of(total);
    }

    /** The shortest form {@link #parse} reads back: {@code 1h30m}, {@code 45s}, {@code 0s}. */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        StringBuilder out = new StringBuilder();
        long days = d.toDays();
        if (days > 0) {
            out.append(days).append('d');
        }
        if (d.toHoursPart() > 0) {
            out.append(d.toHoursPart()).append('h');
        }
        if (d.toMinutesPart() > 0) {
            out.append(d.toMinutesPart()).append('m');
        }
        if (d.toSecondsPart() > 0) {
            out.append(d.toSecondsPart()).append('s');
        }
        if (d.toMillisPart() > 0) {
            out.append(d.toMillisPart()).append("ms");
        }
        return out.toString();
    }
}
