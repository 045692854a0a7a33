package io.dozor.server.outbox;

import java.time.Duration;

/**
 * The outcome of delivering one outbox item. {@code reason}: why it was parked (PARK only); {@code held}: a RETRY
 * that waits on purpose (quiet hours), not because the destination failed.
 */
public record Delivery(long eventPk, Outcome outcome, Duration retryAfter, String error, Reason reason, boolean held) {
    public enum Outcome {
        DONE,
        RETRY,
        PARK
    }

    /** Why a delivery was parked, as the {@code reason} label of {@code dozor_dead_letters_total}. */
    public enum Reason {
        /** No Elasticsearch document can be made of the event (e.g. a launch time outside 0000–9999). */
        UNINDEXABLE,
        /** Elasticsearch refused the document (a bulk item 4xx other than 429, e.g. a mapping conflict). */
        REJECTED,
        /** The message text cannot be made. */
        RENDER,
        /** Telegram refused the message itself (a 400 not about the chat). */
        REFUSED,
        /** Telegram refuses messages to the chat (403, chat not found, bot blocked or kicked). */
        CHAT_GONE,
        /** The sink failed on this item alone while the rest of its batch went through. */
        SINK_ERROR,
        /** The outbox row's event cannot be read. */
        UNREADABLE;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static Delivery done(long eventPk) {
        return new Delivery(eventPk, Outcome.DONE, Duration.ZERO, null, null, false);
    }

    public static Delivery retry(long eventPk, Duration after, String error) {
        return new Delivery(eventPk, Outcome.RETRY, after, error, null, false);
    }

    /** Retried after {@code after} because it is held back on purpose, e.g. during quiet hours. */
    public static Delivery held(long eventPk, Duration after, String why) {
        return new Delivery(eventPk, Outcome.RETRY, after, why, null, true);
    }

    /** Will never succeed as it is (e.g. a mapping error): kept with its reason, not retried. */
    public static Delivery park(long eventPk, Reason reason, String error) {
        return new Delivery(eventPk, Outcome.PARK, Duration.ZERO, error, reason, false);
    }
}
