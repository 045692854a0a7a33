package io.dozor.server.notify.bot;

import io.dozor.server.notify.Mute;
import io.dozor.server.rules.Durations;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** A bot command as parsed from a message text; {@link Invalid} carries the answer explaining why not. */
public sealed interface Command {
    int MAX_VALUE = 256;

    record Help() implements Command {}

    record Status() implements Command {}

    record Mutes() implements Command {}

    record MuteCmd(Duration duration, Mute.Kind kind, String value) implements Command {}

    /** {@code kind} empty: every mute of the chat. */
    record Unmute(Optional<Mute.Kind> kind, String value) implements Command {}

    record Invalid(String answer) implements Command {}

    /** Empty for text that is not a command at all (no leading slash): ignored without an answer. */
    static Optional<Command> parse(String text, Duration defaultMute) {
        return parse(text, defaultMute, Optional.empty());
    }

    /**
     * As {@link #parse(String, Duration)}; in a group, {@code /status@other_bot} is meant for another bot
     * and is ignored when this bot's user name is known.
     */
    static Optional<Command> parse(String text, Duration defaultMute, Optional<String> botUsername) {
        if (text == null || !text.startsWith("/")) {
            return Optional.empty();
        }
        List<String> words = Arrays.stream(text.trim().split("\\s+")).toList();
        String name = words.get(0).substring(1).toLowerCase(Locale.ROOT);
        int at = name.indexOf('@');
        if (at >= 0) {
            String addressee = name.substring(at + 1);
            if (botUsername.isPresent() && !botUsername.get().equalsIgnoreCase(addressee)) {
                return Optional.empty();
            }
            name = name.substring(0, at);
        }
        List<String> args = words.subList(1, words.size());
        return Optional.of(
                switch (name) {
                    case "help", "start" -> args.isEmpty() ? new Help() : usage("/help");
                    case "status" -> args.isEmpty() ? new Status() : usage("/status");
                    case "mutes" -> args.isEmpty() ? new Mutes() : usage("/mutes");
                    case "mute" -> mute(args, defaultMute);
                    case "unmute" -> unmute(args);
                    default -> new Invalid("Неизвестная команда " + words.get(0) + ". Команды: /help");
                });
    }

    private static Command mute(List<String> args, Duration defaultMute) {
        Duration duration = defaultMute;
        List<String> rest = args;
        if (!args.isEmpty() && Character.isDigit(args.get(0).charAt(0))) {
            Optional<Duration> parsed = Durations.parse(args.get(0));
            if (parsed.isEmpty() || parsed.get().isZero()) {
                return new Invalid("Не понимаю длительность «" + args.get(0)
                        + "»: например 30m, 2h, 1d, 1h30m (не больше 3650d).");
            }
            duration = parsed.get();
            rest = args.subList(1, args.size());
        }
        if (rest.isEmpty()) {
            return new MuteCmd(duration, Mute.Kind.ALL, "");
        }
        Command target = target(rest, "/mute [длительность] [user|process|agent] [имя]");
        return target instanceof Unmute u ? new MuteCmd(duration, u.kind().orElseThrow(), u.value()) : target;
    }

    private static Command unmute(List<String> args) {
        return args.isEmpty() ? new Unmute(Optional.empty(), "") : target(args, "/unmute [user|process|agent] [имя]");
    }

    /** {@code NAME}, {@code user NAME}, {@code user:NAME} (also process, agent), as an Unmute carrier. */
    private static Command target(List<String> words, String usage) {
        String first = words.get(0);
        Optional<Mute.Kind> kind = kind(first.contains(":") ? first.substring(0, first.indexOf(':')) : first);
        String value;
        if (kind.isPresent() && !first.contains(":") && words.size() == 1) {
            return usage(usage);
        } else if (kind.isPresent() && first.contains(":") && words.size() == 1) {
            value = first.substring(first.indexOf(':') + 1);
        } else if (kind.isPresent() && !first.contains(":") && words.size() == 2) {
            value = words.get(1);
        } else if (words.size() == 1 && !first.contains(":")) {
            if (first.equalsIgnoreCase("all")) {
                return new Unmute(Optional.of(Mute.Kind.ALL), "");
            }
            kind = Optional.of(Mute.Kind.ANY);
            value = first;
        } else {
            return usage(usage);
        }
        if (value.isEmpty() || value.length() > MAX_VALUE) {
            return new Invalid("Имя должно быть от 1 до " + MAX_VALUE + " символов.");
        }
        return new Unmute(kind, value);
    }

    private static Optional<Mute.Kind> kind(String word) {
        return switch (word.toLowerCase(Locale.ROOT)) {
            case "user" -> Optional.of(Mute.Kind.USER);
            case "process" -> Optional.of(Mute.Kind.PROCESS);
            case "agent" -> Optional.of(Mute.Kind.AGENT);
            default -> Optional.empty();
        };
    }

    private static Invalid usage(String usage) {
        return new Invalid("Использование: " + usage);
    }
}
