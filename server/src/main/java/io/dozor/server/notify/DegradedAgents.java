package io.dozor.server.notify;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One notification when an agent's heartbeat reports that its spool cannot store launches ({@code spool_error}:
 * disk full, I/O error, ...), and one when a heartbeat reports it working again. Like {@link SilentAgents}: the
 * announcement is a row in {@code agent_spool_alerts} written in the same transaction as the check, rolled back
 * when Telegram cannot be reached, so an alert is late rather than lost or doubled.
 */
final class DegradedAgents {
    /** Heartbeats come every {@code heartbeat_interval_s} (60 s by default); a look costs one small query. */
    static final Duration CHECK_INTERVAL = Duration.ofSeconds(2);

    private final NotifyStore store;
    private final ZoneId zone;
    private final Clock clock;
    private final Function<String, Future<Boolean>> broadcast;

    /** {@code broadcast} sends a text to every chat; false means "try again later". */
    DegradedAgents(NotifyStore store, ZoneId zone, Clock clock, Function<String, Future<Boolean>> broadcast) {
        this.store = store;
        this.zone = zone;
        this.clock = clock;
        this.broadcast = broadcast;
    }

    Future<Void> check() {
        return store.announceSpool((degraded, recovered) -> {
            String prefix = SilentAgents.prefix(clock, zone);
            List<String> texts = new ArrayList<>();
            degraded.forEach(r -> texts.add(prefix + "Агент " + SilentAgents.agent(r) + " не может записать очередь: "
                    + r.getString("reason") + lost(r) + ". Запуски хранятся в памяти агента и отправляются сразу."));
            recovered.forEach(r -> texts.add(prefix + "Очередь агента " + SilentAgents.agent(r)
                    + " снова записывается (ошибка «" + r.getString("reason") + "» с "
                    + SilentAgents.time(r, "since", zone) + ")" + lost(r)));
            return SilentAgents.sendAll(broadcast, texts, 0);
        });
    }

    private static String lost(Row r) {
        Long n = r.getLong("unpersisted_events");
        return n == null || n == 0 ? "" : "; потеряно запусков: " + n;
    }
}
