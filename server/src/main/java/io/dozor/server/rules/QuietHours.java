package io.dozor.server.rules;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Daily quiet windows per chat, in the notification time zone: {@code 23:00-07:00} for every chat,
 * {@code -1001234=22:30-08:00} for one (a chat's own entry replaces the general one). Seconds are allowed
 * ({@code 12:00:00-12:00:30}). A window may cross midnight.
 */
public final class QuietHours {
    public static final QuietHours NONE = new QuietHours(Optional.empty(), Map.of());

    record Window(LocalTime start, LocalTime end) {
        /** When the window holding {@code local} ends, if it holds it. */
        Optional<ZonedDateTime> endIfInside(ZonedDateTime local) {
            LocalTime t = local.toLocalTime();
            LocalDate day = local.toLocalDate();
            if (start.isBefore(end)) {
                return !t.isBefore(start) && t.isBefore(end)
                        ? Optional.of(at(day, end, local.getZone()))
                        : Optional.empty();
            }
            if (!t.isBefore(start)) {
                return Optional.of(at(day.plusDays(1), end, local.getZone()));
            }
            return t.isBefore(end) ? Optional.of(at(day, end, local.getZone())) : Optional.empty();
        }

        private static ZonedDateTime at(LocalDate day, LocalTime time, ZoneId zone) {
            return ZonedDateTime.of(day, time, zone);
        }
    }

    private final Optional<Window> all;
    private final Map<Long, Window> perChat;

    private QuietHours(Optional<Window> all, Map<Long, Window> perChat) {
        this.all = all;
        this.perChat = perChat;
    }

    /** The end of the quiet window {@code chatId} is in at {@code now}, or empty when it may be notified. */
    public Optional<Instant> quietUntil(long chatId, Instant now, ZoneId zone) {
        Window w = perChat.containsKey(chatId) ? perChat.get(chatId) : all.orElse(null);
        return w == null ? Optional.empty() : w.endIfInside(now.atZone(zone)).map(ZonedDateTime::toInstant);
    }

    /**
     * Parses the comma-separated entries.
     *
     * @throws IllegalArgumentException naming the bad entry
     */
    public static QuietHours parse(Iterable<String> entries) {
        Optional<Window> all = Optional.empty();
        Map<Long, Window> perChat = new HashMap<>();
        for (String entry : entries) {
            String e = entry.trim();
            int eq = e.indexOf('=');
            Window w = window(eq < 0 ? e : e.substring(eq + 1).trim(), entry);
            if (eq < 0) {
                if (all.isPresent()) {
                    throw new IllegalArgumentException("more than one window for all chats: \"" + entry + "\"");
                }
                all = Optional.of(w);
            } else {
                try {
                    perChat.put(Long.parseLong(e.substring(0, eq).trim()), w);
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException("chat id must be an integer in \"" + entry + "\"");
                }
            }
        }
        return new QuietHours(all, Map.copyOf(perChat));
    }

    private static Window window(String text, String entry) {
        String[] parts = text.split("-");
        if (parts.length != 2) {
            throw new IllegalArgumentException("expected HH:MM-HH:MM, got \"" + entry + "\"");
        }
        try {
            Window w = new Window(LocalTime.parse(parts[0].trim()), LocalTime.parse(parts[1].trim()));
            if (w.start().equals(w.end())) {
                throw new IllegalArgumentException("empty window \"" + entry + "\"");
            }
            return w;
        } catch (DateTimeParseException ex) {
            throw new IllegalArgumentException("expected HH:MM-HH:MM, got \"" + entry + "\"");
        }
    }
}
