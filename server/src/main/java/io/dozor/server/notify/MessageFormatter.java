package io.dozor.server.notify;

import io.dozor.server.model.StoredEvent;
import java.time.DateTimeException;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Renders the notification text, by default {@code [2026-11-27 10:15:03] Пользователь ivanov запустил
 * chrome.exe}. Placeholders: {time} {user} {process} {host} {agent}. One pass over the template, so a
 * user name that itself reads "{process}" stays literal.
 */
public final class MessageFormatter {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{(time|user|process|host|agent)}");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm");
    private static final DateTimeFormatter DAY_CLOCK = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm");

    private final String template;
    private final ZoneId zone;

    public MessageFormatter(String template, ZoneId zone) {
        this.template = template;
        this.zone = zone;
    }

    public String format(StoredEvent event) {
        var e = event.launch();
        Map<String, String> values = Map.of(
                "time", local(e.timestamp()).format(TIME),
                "user", e.username(),
                "process", e.processName(),
                "host", e.hostname() == null ? "" : e.hostname(),
                "agent", event.agentId());
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(values.get(m.group(1))));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * One message for many launches: {@code 12 запусков за 10:15–10:20: ivanov — chrome.exe ×5, petrov —
     * explorer.exe ×4, …}, pairs by count (then first seen); the span is of the launch times, with the date
     * when it crosses one.
     */
    public String digest(List<StoredEvent> events) {
        Map<String, Long> pairs = events.stream()
                .collect(Collectors.groupingBy(
                        e -> e.launch().username() + " — " + e.launch().processName(),
                        LinkedHashMap::new,
                        Collectors.counting()));
        List<OffsetDateTime> times =
                events.stream().map(e -> e.launch().timestamp()).sorted().toList();
        ZonedDateTime from = local(times.get(0));
        ZonedDateTime to = local(times.get(times.size() - 1));
        DateTimeFormatter f = from.toLocalDate().equals(to.toLocalDate()) ? CLOCK : DAY_CLOCK;
        String list = pairs.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
                .map(e -> e.getKey() + " ×" + e.getValue())
                .collect(Collectors.joining(", "));
        return events.size() + " " + launches(events.size()) + " за " + from.format(f) + "–" + to.format(f) + ": "
                + list;
    }

    /**
     * The time in the configured zone; a time PostgreSQL holds but that zone cannot (its 'infinity' reads
     * as OffsetDateTime.MAX, past the last date-time of any other offset) is shown in its own offset.
     */
    private ZonedDateTime local(OffsetDateTime time) {
        try {
            return time.atZoneSameInstant(zone);
        } catch (DateTimeException e) {
            return time.toZonedDateTime();
        }
    }

    /** запуск, запуска, запусков: Russian plural of the count. */
    static String launches(long n) {
        long tens = n % 100;
        long ones = n % 10;
        if (tens >= 11 && tens <= 14) {
            return "запусков";
        }
        return ones == 1 ? "запуск" : ones >= 2 && ones <= 4 ? "запуска" : "запусков";
    }

    public ZoneId zone() {
        return zone;
    }
}
