package io.dozor.server.notify;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Telegram's limits for one server process, shared by every chat sink and the bot: at most one message a
 * second per chat, 20 a minute per group (negative chat ids; spaced 3 s apart), 30 a second overall
 * (spaced 34 ms apart). Each send reserves the earliest slot all three allow, so senders never collide.
 * Several server instances each keep their own limits.
 */
public final class RateLimiter {
    static final Duration PER_CHAT = Duration.ofSeconds(1);
    static final Duration PER_GROUP = Duration.ofSeconds(3);
    static final Duration GLOBAL = Duration.ofMillis(34);

    private final Clock clock;
    private final Map<Long, Instant> chatNext = new HashMap<>();
    private final TreeSet<Instant> global = new TreeSet<>();

    public RateLimiter(Clock clock) {
        this.clock = clock;
    }

    /** Completes when a message to {@code chatId} may be sent. */
    public Future<Void> acquire(Vertx vertx, long chatId) {
        long wait = reserve(chatId).toMillis();
        return wait <= 0 ? Future.succeededFuture() : vertx.timer(wait).mapEmpty();
    }

    /** Reserves the next slot for the chat; the answer is how long to wait for it. */
    synchronized Duration reserve(long chatId) {
        Instant now = clock.instant();
        global.headSet(now.minus(PER_CHAT)).clear();
        Instant t = chatNext.getOrDefault(chatId, now);
        if (t.isBefore(now)) {
            t = now;
        }
        // The earliest instant at least GLOBAL away from every other reservation.
        boolean moved = true;
        while (moved) {
            moved = false;
            Instant near = global.ceiling(t.minus(GLOBAL).plusNanos(1));
            if (near != null && near.isBefore(t.plus(GLOBAL))) {
                t = near.plus(GLOBAL);
                moved = true;
            }
        }
        global.add(t);
        chatNext.put(chatId, t.plus(chatId < 0 ? PER_GROUP : PER_CHAT));
        return Duration.between(now, t);
    }

    /** Telegram said 429: nothing more to this chat before {@code retryAfter} has passed. */
    public synchronized void pause(long chatId, Duration retryAfter) {
        Instant until = clock.instant().plus(retryAfter);
        if (chatNext.getOrDefault(chatId, Instant.MIN).isBefore(until)) {
            chatNext.put(chatId, until);
        }
    }
}
