package io.dozor.server.notify;

import io.dozor.server.model.StoredEvent;
import java.time.Instant;
import java.util.Locale;

/**
 * One chat's mute (from the bot's {@code /mute}), stored in PostgreSQL by {@link NotifyStore} so it outlives
 * restarts: of everything, of a user, of a program ({@code .exe} optional), of an agent (id or host name), or of
 * whichever of these bears a bare name.
 */
public record Mute(Kind kind, String value, Instant until) {
    public enum Kind {
        ALL,
        USER,
        PROCESS,
        AGENT,
        ANY;

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public boolean matches(StoredEvent event) {
        var e = event.launch();
        return switch (kind) {
            case ALL -> true;
            case USER -> same(value, e.username());
            case PROCESS -> sameProgram(value, e.processName());
            case AGENT -> same(value, event.agentId()) || same(value, e.hostname());
            case ANY ->
                same(value, e.username())
                        || sameProgram(value, e.processName())
                        || same(value, event.agentId())
                        || same(value, e.hostname());
        };
    }

    /** What it mutes, as the bot shows it: {@code everything}, {@code user ivanov}, {@code chrome.exe}. */
    public String describe() {
        return switch (kind) {
            case ALL -> "всё";
            case ANY -> value;
            default -> kind.key() + " " + value;
        };
    }

    private static boolean same(String a, String b) {
        return b != null && a.equalsIgnoreCase(b);
    }

    private static boolean sameProgram(String a, String b) {
        return b != null && stripExe(a).equalsIgnoreCase(stripExe(b));
    }

    private static String stripExe(String name) {
        return name.toLowerCase(Locale.ROOT).endsWith(".exe") ? name.substring(0, name.length() - 4) : name;
    }
}
