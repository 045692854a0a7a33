package io.dozor.server.notify;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.model.StoredEvent;
import io.dozor.server.outbox.Delivery;
import io.dozor.server.outbox.Failures;
import io.dozor.server.outbox.OutboxItem;
import io.dozor.server.rules.Filters;
import io.dozor.server.rules.QuietHours;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * What one chat is told about a batch of launches, decided without I/O: the sink loads the state
 * ({@link NotifyStore}), asks here, sends what this says, and records what this makes of the answers. Three
 * steps, each a function of its arguments alone:
 * <ol>
 *   <li>{@link #screen}: filters and the chat's mutes drop a launch; during the chat's quiet hours the rest are
 *       dropped or held (retried when the window ends);</li>
 *   <li>{@link #plan}: a pair below its threshold, or within its cooldown, is dropped; every text is made
 *       (a launch whose text cannot be made is parked alone); one message per launch, in order, or one digest
 *       when there are more than {@code digest_after} or some were held;</li>
 *   <li>{@link #settle}: the Bot API's answers become the outbox outcomes and the state to record (held rows to
 *       forget, the pairs notified).</li>
 * </ol>
 */
final class NotifyCore {
    private NotifyCore() {}

    /** The settings one chat's decision follows; {@code filters} as they are now (they can be reloaded). */
    record Rules(
            long chatId,
            Filters filters,
            QuietHours quietHours,
            ZoneId zone,
            boolean quietDrop,
            int thresholdCount,
            Duration thresholdWindow,
            Duration cooldown,
            int digestAfter) {
        static Rules of(long chatId, ServerConfig.Telegram config, Filters filters) {
            return new Rules(
                    chatId,
                    filters,
                    config.quietHours(),
                    config.timeZone(),
                    config.quietDrop(),
                    config.thresholdCount(),
                    config.thresholdWindow(),
                    config.cooldown(),
                    config.digestAfter());
        }

        /** Whether launches must be counted: a threshold of 1 notifies every launch. */
        boolean counts() {
            return thresholdCount > 1;
        }

        boolean coolsDown() {
            return !cooldown.isZero();
        }
    }

    /** A user and a program: what the threshold counts and the cooldown remembers. */
    record Pair(String user, String process) {
        static Pair of(StoredEvent event) {
            return new Pair(event.launch().username(), event.launch().processName());
        }
    }

    /** What the sink loads before screening: which of the batch were held before, and the chat's mutes in force. */
    record ChatState(Set<Long> held, List<Mute> mutes) {}

    /**
     * What the sink loads for the launches left after screening: per event pk, how many launches its pair had in
     * the threshold window ending at it (only when counting), and when each pair was last notified (only with a
     * cooldown).
     */
    record PairState(Map<Long, Long> counts, Map<Pair, OffsetDateTime> lastNotified) {
        static final PairState NONE = new PairState(Map.of(), Map.of());
    }

    /** Screened: outcomes decided already, the pks to hold, and the launches left to plan. */
    record Screened(List<Delivery> settled, List<Long> hold, List<OutboxItem> pending) {}

    /** One message to send and the launches it tells of. */
    record Message(String text, List<OutboxItem> items) {}

    /** A launch whose text cannot be made, and why (for the log). */
    record Unrendered(long eventPk, String error) {}

    /** Planned: the outcomes decided without sending, the pks to hold, and the messages to send in order. */
    record Plan(List<Delivery> settled, List<Long> hold, List<Message> messages, List<Unrendered> unrendered) {}

    /**
     * Settled: every launch's outcome, the pks to record as held, the pks whose held row goes (every launch not
     * retried), and, with a cooldown, the newest launch time of each pair notified (the start of its cooldown).
     */
    record Outcome(List<Delivery> deliveries, List<Long> hold, List<Long> unhold, Map<Pair, OffsetDateTime> notified) {}

    static Screened screen(Rules rules, List<OutboxItem> items, List<Mute> mutes, Instant now) {
        List<Delivery> settled = new ArrayList<>();
        List<OutboxItem> candidates = new ArrayList<>();
        for (OutboxItem item : items) {
            StoredEvent e = item.event();
            if (!rules.filters().passes(e) || mutes.stream().anyMatch(m -> m.matches(e))) {
                settled.add(Delivery.done(e.id()));
            } else {
                candidates.add(item);
            }
        }
        Optional<Instant> quietUntil = rules.quietHours().quietUntil(rules.chatId(), now, rules.zone());
        if (quietUntil.isEmpty() || candidates.isEmpty()) {
            return new Screened(settled, List.of(), candidates);
        }
        if (rules.quietDrop()) {
            candidates.forEach(i -> settled.add(Delivery.done(i.event().id())));
            return new Screened(settled, List.of(), List.of());
        }
        Instant until = quietUntil.get();
        Duration wait = Duration.between(now, until);
        candidates.forEach(i -> settled.add(Delivery.held(i.event().id(), wait, "held: quiet hours until " + until)));
        return new Screened(settled, pks(candidates), List.of());
    }

    static Plan plan(Rules rules, Screened screened, Set<Long> held, PairState pairs, MessageFormatter formatter) {
        List<Delivery> settled = new ArrayList<>(screened.settled());
        List<OutboxItem> over = new ArrayList<>();
        for (OutboxItem item : screened.pending()) {
            if (!rules.counts() || pairs.counts().getOrDefault(item.event().id(), 0L) >= rules.thresholdCount()) {
                over.add(item);
            } else {
                settled.add(Delivery.done(item.event().id()));
            }
        }
        List<OutboxItem> cooled = new ArrayList<>();
        Map<Pair, OffsetDateTime> last = new HashMap<>(pairs.lastNotified());
        for (OutboxItem item : over) {
            OffsetDateTime at = item.event().launch().timestamp();
            OffsetDateTime previous = last.get(Pair.of(item.event()));
            if (rules.coolsDown() && previous != null && at.isBefore(previous.plus(rules.cooldown()))) {
                settled.add(Delivery.done(item.event().id()));
            } else {
                last.put(Pair.of(item.event()), at);
                cooled.add(item);
            }
        }
        // every text is made before anything is sent: a launch whose text cannot be made is parked alone, and such
        // a failure can never follow messages already sent (which a redelivery would repeat)
        List<Unrendered> unrendered = new ArrayList<>();
        List<Message> each = new ArrayList<>();
        for (OutboxItem item : cooled) {
            try {
                each.add(new Message(formatter.format(item.event()), List.of(item)));
            } catch (RuntimeException e) {
                unrendered.add(new Unrendered(item.event().id(), e.toString()));
                settled.add(Delivery.park(
                        item.event().id(),
                        Delivery.Reason.RENDER,
                        "cannot render the message: " + Failures.describe(e)));
            }
        }
        List<OutboxItem> told = each.stream().flatMap(m -> m.items().stream()).toList();
        boolean released = told.stream().anyMatch(i -> held.contains(i.event().id()));
        List<Message> messages = !released && told.size() <= rules.digestAfter()
                ? each
                : List.of(new Message(
                        formatter.digest(told.stream().map(OutboxItem::event).toList()), told));
        return new Plan(settled, screened.hold(), messages, unrendered);
    }

    /**
     * Whether the next message is sent after this answer: yes after one sent or refused alone (a 400 not about
     * the chat); when one is refused for now (429, 5xx) or the chat is gone, the rest share its fate unsent.
     */
    static boolean goesOn(BotApi.Result result) {
        return result.sent() || result.kind() == BotApi.Result.Kind.REFUSED;
    }

    /**
     * The outcomes of a plan given the answers to its messages, in order: the last answer also stands for the
     * messages after it, which were not sent ({@link #goesOn}). {@code backoff}: the wait before retrying after
     * so many failed attempts, where Telegram did not say how long.
     */
    static Outcome settle(Rules rules, Plan plan, List<BotApi.Result> results, IntFunction<Duration> backoff) {
        List<Delivery> deliveries = new ArrayList<>(plan.settled());
        Map<Pair, OffsetDateTime> notified = new LinkedHashMap<>();
        for (int i = 0; i < plan.messages().size() && !results.isEmpty(); i++) {
            BotApi.Result result = results.get(Math.min(i, results.size() - 1));
            for (OutboxItem item : plan.messages().get(i).items()) {
                deliveries.add(outcome(item, result, backoff));
                if (result.sent() && rules.coolsDown()) {
                    notified.merge(
                            Pair.of(item.event()), item.event().launch().timestamp(), (a, b) -> a.isAfter(b) ? a : b);
                }
            }
        }
        List<Long> unhold = deliveries.stream()
                .filter(d -> d.outcome() != Delivery.Outcome.RETRY)
                .map(Delivery::eventPk)
                .toList();
        return new Outcome(deliveries, plan.hold(), unhold, notified);
    }

    private static Delivery outcome(OutboxItem item, BotApi.Result result, IntFunction<Duration> backoff) {
        long pk = item.event().id();
        return switch (result.kind()) {
            case SENT -> Delivery.done(pk);
            case RETRY ->
                Delivery.retry(
                        pk,
                        result.retryAfter() != null ? result.retryAfter() : backoff.apply(item.attempts()),
                        result.error());
            case REFUSED -> Delivery.park(pk, Delivery.Reason.REFUSED, result.error());
            case GONE -> Delivery.park(pk, Delivery.Reason.CHAT_GONE, result.error());
        };
    }

    static List<Long> pks(List<OutboxItem> items) {
        return items.stream().map(i -> i.event().id()).toList();
    }
}
