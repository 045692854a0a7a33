package io.dozor.server.notify;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One notification when an agent has not been heard from for {@code telegram.silent_agent_after}, and one
 * when it is back. The announcement is a row in {@code agent_alerts} written in the same transaction as
 * the check; if a message cannot be sent (Telegram down) the transaction rolls back and the next check
 * tries again, so an alert is late rather than lost. Several servers: the insert decides which announces.
 */
final class SilentAgents {
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private final NotifyStore store;
    private final Duration after;
    private final ZoneId zone;
    private final Clock clock;
    private final Function<String, Future<Boolean>> broadcast;

    /** {@code broadcast} sends a text to every chat; false means "try again later". */
    SilentAgents(
            NotifyStore store, Duration after, ZoneId zone, Clock clock, Function<String, Future<Boolean>> broadcast) {
        this.store = store;
        this.after = after;
        this.zone = zone;
        this.clock = clock;
        this.broadcast = broadcast;
    }

    /** How often to look: a quarter of the silence allowed, between 200 ms and 30 s. */
    Duration checkInterval() {
        return Duration.ofMillis(Math.max(200, Math.min(30_000, after.toMillis() / 4)));
    }

    Future<Void> check() {
        return store.announceSilence(after, (silent, back) -> {
            List<String> texts = new ArrayList<>();
            silent.forEach(r -> texts.add(prefix() + "Агент " + agent(r) + " молчит с " + time(r, "silent_since")));
            back.forEach(r -> texts.add(
                    prefix() + "Агент " + agent(r) + " снова на связи (молчал с " + time(r, "silent_since") + ")"));
            return sendAll(broadcast, texts, 0);
        });
    }

    /** Sends the texts in order; fails (so the caller's transaction rolls back) when one must be retried. */
    static Future<Void> sendAll(Function<String, Future<Boolean>> broadcast, List<String> texts, int index) {
        if (index == texts.size()) {
            return Future.succeededFuture();
        }
        return broadcast
                .apply(texts.get(index))
                .compose(ok -> ok
                        ? sendAll(broadcast, texts, index + 1)
                        : Future.failedFuture(new IllegalStateException("agent alert not delivered, will retry")));
    }

    private String prefix() {
        return prefix(clock, zone);
    }

    static String prefix(Clock clock, ZoneId zone) {
        return "[" + clock.instant().atZone(zone).format(TIME) + "] ";
    }

    static String agent(Row r) {
        String host = r.getString("hostname");
        return r.getString("agent_id") + (host == null || host.isEmpty() ? "" : " (" + host + ")");
    }

    private String time(Row r, String column) {
        return time(r, column, zone);
    }

    static String time(Row r, String column, ZoneId zone) {
        return r.getOffsetDateTime(column).atZoneSameInstant(zone).format(TIME);
    }
}
