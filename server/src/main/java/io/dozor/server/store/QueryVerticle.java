package io.dozor.server.store;

import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages.EventsQuery;
import io.dozor.server.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** Read-only queries for the admin API; never writes. */
public final class QueryVerticle extends VerticleBase {
    static final long OUTBOX_GAUGE_PERIOD_MS = 5_000;

    private final Pool pool;
    private final List<String> sinks;
    private final Duration activeWithin;

    /** {@code activeWithin}: an agent heard from within it counts as active in {@code dozor_agents_active}. */
    public QueryVerticle(Pool pool, List<String> sinks, Duration activeWithin) {
        this.pool = pool;
        this.sinks = sinks;
        this.activeWithin = activeWithin;
    }

    @Override
    public Future<?> start() {
        vertx.setPeriodic(OUTBOX_GAUGE_PERIOD_MS, id -> {
            refreshOutboxDepth();
            refreshAgents();
        });
        var bus = vertx.eventBus();
        return Future.all(
                bus.<EventsQuery>consumer(Addresses.ADMIN_EVENTS, this::events).completion(),
                bus.consumer(Addresses.ADMIN_AGENTS, this::agents).completion());
    }

    /** Keeps the {@code dozor_outbox_depth} gauges current; a failure leaves the last values. */
    private void refreshOutboxDepth() {
        pool.query(Sql.OUTBOX_DEPTH).execute().onSuccess(rows -> {
            java.util.Map<String, Long> depths = new java.util.HashMap<>();
            rows.forEach(r -> depths.put(r.getString("sink"), r.getLong("depth")));
            Meters.outboxDepths(sinks, depths);
        });
    }

    /** Keeps the fleet gauges ({@code dozor_agents_*}) current; a failure leaves the last values. */
    private void refreshAgents() {
        pool.preparedQuery(Sql.AGENTS_GAUGES)
                .execute(Tuple.of(activeWithin.toMillis()))
                .onSuccess(rows -> {
                    Row r = rows.iterator().next();
                    Meters.agents(
                            r.getLong("known"),
                            r.getLong("active"),
                            r.getLong("spool_depth_max"),
                            r.getLong("dropped_events"));
                });
    }

    private void events(Message<EventsQuery> message) {
        EventsQuery q = message.body();
        pool.preparedQuery(pageStatement(q.from(), q.to(), q.before(), Instant.now()))
                // one row more than the page: a next page exists only if it comes back
                .execute(Tuple.of(q.from(), q.to(), q.user(), q.process(), q.agent(), q.before(), q.limit() + 1))
                .map(rows -> {
                    JsonArray events = new JsonArray();
                    Long last = null;
                    for (Row r : rows) {
                        if (events.size() == q.limit()) {
                            break;
                        }
                        last = r.getLong("id");
                        events.add(eventJson(r));
                    }
                    JsonObject page = new JsonObject().put("events", events);
                    if (rows.size() > q.limit() && last != null) {
                        page.put("next_cursor", Long.toString(last));
                    }
                    return page;
                })
                .onSuccess(message::reply)
                .onFailure(err -> message.fail(503, "storage unavailable: " + err.getMessage()));
    }

    /**
     * The statement of a page, both answering the same rows: {@link Sql#EVENTS_PAGE_RANGE} when the range has
     * both ends, no cursor, and is shorter than what {@link Sql#EVENTS_PAGE} would walk before reaching it — the
     * ids from the month partition's newest row (the end of the month the range ends in, or {@code now} in the
     * current month) down to the range's end. Otherwise EVENTS_PAGE, which finds the newest rows of an open
     * range, and of the page after a cursor inside the range, at once.
     */
    public static String pageStatement(OffsetDateTime from, OffsetDateTime to, Long before, Instant now) {
        if (from == null || to == null || before != null) {
            return Sql.EVENTS_PAGE;
        }
        Instant partitionEnd = to.atZoneSameInstant(ZoneOffset.UTC)
                .toLocalDate()
                .withDayOfMonth(1)
                .plusMonths(1)
                .atStartOfDay(ZoneOffset.UTC)
                .toInstant();
        Duration walk = Duration.between(to.toInstant(), partitionEnd.isBefore(now) ? partitionEnd : now);
        Duration range = Duration.between(from.toInstant(), to.toInstant());
        return range.compareTo(walk) < 0 ? Sql.EVENTS_PAGE_RANGE : Sql.EVENTS_PAGE;
    }

    /** One row of {@link Sql#EVENTS_PAGE} as the admin API (and {@code dozor-server events --json}) show it. */
    public static JsonObject eventJson(Row r) {
        return new JsonObject()
                .put("event_id", r.getUUID("event_id").toString())
                .put("timestamp", text(r.getOffsetDateTime("timestamp")))
                .put("username", r.getString("username"))
                .put("process_name", r.getString("process_name"))
                .put("agent_id", r.getString("agent_id"))
                .put("pid", r.getLong("pid"))
                .put("executable", r.getString("executable"))
                .put("hostname", r.getString("hostname"))
                .put("received_at", text(r.getOffsetDateTime("received_at")));
    }

    private void agents(Message<Object> message) {
        pool.query(Sql.AGENTS_LIST)
                .execute()
                .map(rows -> {
                    JsonArray agents = new JsonArray();
                    for (Row r : rows) {
                        agents.add(new JsonObject()
                                .put("agent_id", r.getString("agent_id"))
                                .put("hostname", r.getString("hostname"))
                                .put("version", r.getString("version"))
                                .put("spool_depth", r.getLong("spool_depth"))
                                .put("dropped_events", r.getLong("dropped_events"))
                                .put("unpersisted_events", r.getLong("unpersisted_events"))
                                .put("spool_error", r.getString("spool_error"))
                                .put("first_seen", text(r.getOffsetDateTime("first_seen")))
                                .put("last_seen", text(r.getOffsetDateTime("last_seen")))
                                .put("last_heartbeat", text(r.getOffsetDateTime("last_heartbeat")))
                                .put("os", r.getString("os"))
                                .put("enrolled_via", r.getString("enrolled_via"))
                                .put("enrolled_at", text(r.getOffsetDateTime("enrolled_at"))));
                    }
                    return new JsonObject().put("agents", agents);
                })
                .onSuccess(message::reply)
                .onFailure(err -> message.fail(503, "storage unavailable: " + err.getMessage()));
    }

    /** RFC 3339, seconds always written ({@code toString()} drops {@code :00}). */
    private static String text(OffsetDateTime t) {
        return t == null ? null : t.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    }
}
