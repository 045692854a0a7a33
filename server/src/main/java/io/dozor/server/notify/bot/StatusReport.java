package io.dozor.server.notify.bot;

import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages;
import io.dozor.server.notify.NotifyStore;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.sqlclient.Row;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;

/**
 * The text of {@code /status}: uptime, PostgreSQL and Elasticsearch health, agents (and those whose spool
 * cannot be written, with the reason), today's launches.
 */
public final class StatusReport {
    static final Duration CHECK_TIMEOUT = Duration.ofSeconds(5);
    static final int MAX_AGENTS = 100;

    private final NotifyStore store;
    private final EventBus bus;
    private final ZoneId zone;
    private final Clock clock;
    private final Instant startedAt;
    private final Duration onlineWithin;

    /** {@code bus}: where the dependencies' health checks answer, as for {@code /readyz}. */
    public StatusReport(NotifyStore store, EventBus bus, ZoneId zone, Clock clock, Duration onlineWithin) {
        this.store = store;
        this.bus = bus;
        this.zone = zone;
        this.clock = clock;
        this.startedAt = clock.instant();
        this.onlineWithin = onlineWithin;
    }

    public Future<String> render() {
        List<String> lines = new ArrayList<>();
        Duration up = Duration.between(startedAt, clock.instant());
        lines.add(
                "Dozor работает " + uptime(up) + " (с " + startedAt.atZone(zone).format(BotVerticle.TIME) + ")");
        var startOfDay = LocalDate.now(clock.withZone(zone)).atStartOfDay(zone).toOffsetDateTime();
        Future<String> pg =
                Messages.health(bus, Addresses.HEALTH_POSTGRES, CHECK_TIMEOUT).map(StatusReport::state);
        Future<String> es = Messages.health(bus, Addresses.HEALTH_ELASTICSEARCH, CHECK_TIMEOUT)
                .map(StatusReport::state);
        return pg.compose(pgState -> es.map(esState -> {
                    lines.add("PostgreSQL: " + pgState);
                    lines.add("Elasticsearch: " + esState);
                    return pgState;
                }))
                .compose(pgState -> !"ok".equals(pgState)
                        ? Future.succeededFuture(String.join("\n", lines))
                        : store.agents(onlineWithin)
                                .compose(agents -> {
                                    int online = 0;
                                    List<String> each = new ArrayList<>();
                                    List<String> degraded = new ArrayList<>();
                                    for (Row a : agents) {
                                        String spoolError = a.getString("spool_error");
                                        if (spoolError != null && degraded.size() < MAX_AGENTS) {
                                            String host = a.getString("hostname");
                                            Long lost = a.getLong("unpersisted_events");
                                            degraded.add("  💾 " + a.getString("agent_id")
                                                    + (host == null ? "" : " (" + host + ")") + " — " + spoolError
                                                    + (lost == null || lost == 0
                                                            ? ""
                                                            : ", потеряно запусков: " + lost));
                                        }
                                        boolean on = a.getBoolean("online");
                                        online += on ? 1 : 0;
                                        if (each.size() < MAX_AGENTS) {
                                            String host = a.getString("hostname");
                                            each.add((on ? "  ✅ " : "  ⚠️ ") + a.getString("agent_id")
                                                    + (host == null ? "" : " (" + host + ")") + " — последний контакт "
                                                    + a.getOffsetDateTime("last_seen")
                                                            .atZoneSameInstant(zone)
                                                            .format(BotVerticle.TIME));
                                        }
                                    }
                                    lines.add(
                                            "Агенты: " + online + " на связи, " + (agents.size() - online) + " молчат");
                                    lines.addAll(each);
                                    if (!degraded.isEmpty()) {
                                        lines.add("Очередь агента не записывается: " + degraded.size());
                                        lines.addAll(degraded);
                                    }
                                    return store.launchesSince(startOfDay);
                                })
                                .compose(count -> {
                                    lines.add("Запусков сегодня: " + count);
                                    return store.topProgramsSince(startOfDay);
                                })
                                .map(top -> {
                                    List<String> programs = new ArrayList<>();
                                    top.forEach(r -> programs.add(r.getString("process_name") + " ×" + r.getLong("n")));
                                    if (!programs.isEmpty()) {
                                        lines.add("Чаще всего: " + String.join(", ", programs));
                                    }
                                    return String.join("\n", lines);
                                }));
    }

    private static String state(Messages.Health health) {
        return health.up() ? health.detail() : "недоступен (" + health.detail() + ")";
    }

    static String uptime(Duration d) {
        if (d.toDays() > 0) {
            return d.toDays() + " д " + d.toHoursPart() + " ч";
        }
        if (d.toHours() > 0) {
            return d.toHours() + " ч " + d.toMinutesPart() + " мин";
        }
        return d.toMinutes() + " мин " + d.toSecondsPart() + " с";
    }
}
