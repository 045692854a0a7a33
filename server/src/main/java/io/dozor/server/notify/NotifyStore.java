package io.dozor.server.notify;

import io.dozor.server.outbox.OutboxItem;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * All of the notifications' SQL: the state a chat's sink decides on (read and written inside the outbox's
 * claiming transaction, so it commits or rolls back with the outcomes), the bot's mutes and offset, what
 * {@code /status} shows, and the agent alerts.
 */
public final class NotifyStore {
    static final String BOT_OFFSET_KEY = "updates_offset";

    private static final String NOTIFY_MUTES_ACTIVE =
            "SELECT kind, value, until FROM notify_mutes WHERE chat_id = $1 AND until > now() ORDER BY until, id";
    private static final String NOTIFY_MUTE_ADD = """
      INSERT INTO notify_mutes (chat_id, kind, value, until, created_by)
      VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond', $5) RETURNING until""";
    private static final String NOTIFY_MUTES_REMOVE_ALL =
            "DELETE FROM notify_mutes WHERE chat_id = $1 AND until > now()";
    private static final String NOTIFY_MUTES_REMOVE = """
      DELETE FROM notify_mutes WHERE chat_id = $1 AND until > now() AND kind = $2 AND lower(value) = lower($3)""";
    /** For each item (in order) how many launches its pair had in the window ending at its own launch. */
    private static final String NOTIFY_PAIR_COUNTS = """
      SELECT i.ord, (SELECT count(*) FROM events e
                     WHERE e.username = i.username AND e.process_name = i.process_name
                       AND e."timestamp" > i.ts - $4 * interval '1 millisecond' AND e."timestamp" <= i.ts) AS n
      FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS i(username, process_name, ts, ord)
      ORDER BY i.ord""";

    private static final String NOTIFY_PAIRS_LAST = """
      SELECT username, process_name, last_notified FROM notify_pairs
      WHERE chat_id = $1 AND (username, process_name) IN (SELECT * FROM unnest($2::text[], $3::text[]))""";
    /** Pairs must be distinct within one call. */
    private static final String NOTIFY_PAIRS_SAVE = """
      INSERT INTO notify_pairs (chat_id, username, process_name, last_notified)
      SELECT $1, u, p, t FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS x(u, p, t)
      ON CONFLICT (chat_id, username, process_name)
      DO UPDATE SET last_notified = greatest(notify_pairs.last_notified, excluded.last_notified)""";

    private static final String NOTIFY_HELD_LIST =
            "SELECT event_pk FROM notify_held WHERE sink = $1 AND event_pk = ANY($2::bigint[])";
    private static final String NOTIFY_HELD_ADD = """
      INSERT INTO notify_held (sink, event_pk) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING""";
    private static final String NOTIFY_HELD_REMOVE =
            "DELETE FROM notify_held WHERE sink = $1 AND event_pk = ANY($2::bigint[])";
    private static final String BOT_STATE_GET = "SELECT value FROM bot_state WHERE key = $1";
    private static final String BOT_STATE_PUT = """
      INSERT INTO bot_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value""";
    private static final String STATUS_AGENTS =
            "SELECT agent_id, hostname, last_seen, now() - last_seen < $1 * interval '1 millisecond' AS online, "
                    + "spool_error, dropped_events, unpersisted_events "
                    + "FROM agents ORDER BY agent_id";
    private static final String STATUS_LAUNCHES_SINCE = "SELECT count(*) AS n FROM events WHERE \"timestamp\" >= $1";
    private static final String STATUS_TOP_PROGRAMS_SINCE = """
      SELECT process_name, count(*) AS n FROM events WHERE "timestamp" >= $1
      GROUP BY process_name ORDER BY n DESC, process_name LIMIT 5""";
    /** Agents silent for longer than $1 ms and not yet announced; announcing is the insert. */
    private static final String AGENTS_NEWLY_SILENT = """
      WITH fresh AS (
        INSERT INTO agent_alerts (agent_id, silent_since)
        SELECT agent_id, last_seen FROM agents WHERE last_seen < now() - $1 * interval '1 millisecond'
        ON CONFLICT (agent_id) DO NOTHING
        RETURNING agent_id, silent_since
      )
      SELECT f.agent_id, a.hostname, f.silent_since FROM fresh f JOIN agents a USING (agent_id)""";
    /** Agents whose last heartbeat reports a spool error not yet announced; announcing is the insert. */
    private static final String AGENTS_NEWLY_DEGRADED = """
      WITH fresh AS (
        INSERT INTO agent_spool_alerts (agent_id, reason, since)
        SELECT agent_id, spool_error, last_heartbeat FROM agents WHERE spool_error IS NOT NULL
        ON CONFLICT (agent_id) DO NOTHING
        RETURNING agent_id, reason, since
      )
      SELECT f.agent_id, a.hostname, f.reason, f.since, a.unpersisted_events FROM fresh f JOIN agents a USING (agent_id)""";
    /** Announced agents whose last heartbeat reports a working spool again; the alert row goes. */
    private static final String AGENTS_SPOOL_RECOVERED = """
      DELETE FROM agent_spool_alerts al USING agents a
      WHERE a.agent_id = al.agent_id AND a.spool_error IS NULL
      RETURNING al.agent_id, a.hostname, al.reason, al.since, a.unpersisted_events""";
    /** Announced agents heard from since; the alert row goes. */
    private static final String AGENTS_BACK = """
      DELETE FROM agent_alerts al USING agents a
      WHERE a.agent_id = al.agent_id AND a.last_seen > al.silent_since
      RETURNING al.agent_id, a.hostname, al.silent_since, a.last_seen""";

    private final Pool pool;

    public NotifyStore(Pool pool) {
        this.pool = pool;
    }

    /** Which of {@code items} the sink {@code sink} held before, and the chat's mutes in force. */
    Future<NotifyCore.ChatState> chatState(SqlClient tx, String sink, long chatId, List<OutboxItem> items) {
        return tx.preparedQuery(NOTIFY_HELD_LIST)
                .execute(pkTuple(sink, NotifyCore.pks(items)))
                .compose(rows -> {
                    Set<Long> held = new HashSet<>();
                    rows.forEach(r -> held.add(r.getLong("event_pk")));
                    return activeMutes(tx, chatId).map(mutes -> new NotifyCore.ChatState(held, mutes));
                });
    }

    /** The counts (when the rules count) and the cooldowns (when they have one) of the pending launches' pairs. */
    Future<NotifyCore.PairState> pairState(SqlClient tx, NotifyCore.Rules rules, List<OutboxItem> pending) {
        if (pending.isEmpty()) {
            return Future.succeededFuture(NotifyCore.PairState.NONE);
        }
        Future<Map<Long, Long>> counts = !rules.counts()
                ? Future.succeededFuture(Map.of())
                : tx.preparedQuery(NOTIFY_PAIR_COUNTS)
                        .execute(Tuple.of(
                                pending.stream()
                                        .map(i -> i.event().launch().username())
                                        .toArray(String[]::new),
                                pending.stream()
                                        .map(i -> i.event().launch().processName())
                                        .toArray(String[]::new),
                                pending.stream()
                                        .map(i -> i.event().launch().timestamp())
                                        .toArray(OffsetDateTime[]::new),
                                rules.thresholdWindow().toMillis()))
                        .map(rows -> {
                            Map<Long, Long> out = new HashMap<>();
                            rows.forEach(r -> out.put(
                                    pending.get(r.getLong("ord").intValue() - 1)
                                            .event()
                                            .id(),
                                    r.getLong("n")));
                            return out;
                        });
        return counts.compose(n -> !rules.coolsDown()
                ? Future.succeededFuture(new NotifyCore.PairState(n, Map.of()))
                : tx.preparedQuery(NOTIFY_PAIRS_LAST)
                        .execute(Tuple.of(
                                rules.chatId(),
                                pending.stream()
                                        .map(i -> i.event().launch().username())
                                        .toArray(String[]::new),
                                pending.stream()
                                        .map(i -> i.event().launch().processName())
                                        .toArray(String[]::new)))
                        .map(rows -> {
                            Map<NotifyCore.Pair, OffsetDateTime> last = new HashMap<>();
                            rows.forEach(r -> last.put(
                                    new NotifyCore.Pair(r.getString("username"), r.getString("process_name")),
                                    r.getOffsetDateTime("last_notified")));
                            return new NotifyCore.PairState(n, last);
                        }));
    }

    /** Records what a delivery changed: the launches held, the held rows done with, the pairs notified. */
    Future<Void> record(SqlClient tx, String sink, long chatId, NotifyCore.Outcome outcome) {
        Future<?> held = outcome.hold().isEmpty()
                ? Future.succeededFuture()
                : tx.preparedQuery(NOTIFY_HELD_ADD).execute(pkTuple(sink, outcome.hold()));
        return held.compose(v -> outcome.notified().isEmpty()
                        ? Future.succeededFuture()
                        : tx.preparedQuery(NOTIFY_PAIRS_SAVE)
                                .execute(Tuple.of(
                                        chatId,
                                        outcome.notified().keySet().stream()
                                                .map(NotifyCore.Pair::user)
                                                .toArray(String[]::new),
                                        outcome.notified().keySet().stream()
                                                .map(NotifyCore.Pair::process)
                                                .toArray(String[]::new),
                                        outcome.notified().values().toArray(OffsetDateTime[]::new))))
                .compose(v -> outcome.unhold().isEmpty()
                        ? Future.succeededFuture()
                        : tx.preparedQuery(NOTIFY_HELD_REMOVE).execute(pkTuple(sink, outcome.unhold())))
                .mapEmpty();
    }

    /** (sink, event pks); built explicitly, as {@code Tuple.of(x, array)} would spread the array. */
    private static Tuple pkTuple(String sink, List<Long> pks) {
        return Tuple.tuple().addString(sink).addArrayOfLong(pks.toArray(Long[]::new));
    }

    /** The chat's mutes still in force. */
    public Future<List<Mute>> activeMutes(long chatId) {
        return activeMutes(pool, chatId);
    }

    private static Future<List<Mute>> activeMutes(SqlClient sql, long chatId) {
        return sql.preparedQuery(NOTIFY_MUTES_ACTIVE).execute(Tuple.of(chatId)).map(rows -> {
            List<Mute> mutes = new ArrayList<>();
            for (Row row : rows) {
                mutes.add(new Mute(
                        Mute.Kind.valueOf(row.getString("kind").toUpperCase(Locale.ROOT)),
                        row.getString("value"),
                        row.getOffsetDateTime("until").toInstant()));
            }
            return mutes;
        });
    }

    /** Mutes {@code what} in the chat for {@code duration}; the answer is when the mute ends. */
    public Future<OffsetDateTime> mute(long chatId, Mute.Kind kind, String value, Duration duration, long createdBy) {
        return pool.preparedQuery(NOTIFY_MUTE_ADD)
                .execute(Tuple.of(chatId, kind.key(), value, duration.toMillis(), createdBy))
                .map(rows -> rows.iterator().next().getOffsetDateTime("until"));
    }

    /** Ends the chat's mutes of that kind and value ({@code kind} empty: all of them); the answer is how many. */
    public Future<Integer> unmute(long chatId, Optional<Mute.Kind> kind, String value) {
        return (kind.isEmpty()
                        ? pool.preparedQuery(NOTIFY_MUTES_REMOVE_ALL).execute(Tuple.of(chatId))
                        : pool.preparedQuery(NOTIFY_MUTES_REMOVE)
                                .execute(Tuple.of(chatId, kind.get().key(), value)))
                .map(RowSet::rowCount);
    }

    /** The bot's next {@code getUpdates} offset (0 at first). */
    public Future<Long> botOffset() {
        return pool.preparedQuery(BOT_STATE_GET)
                .execute(Tuple.of(BOT_OFFSET_KEY))
                .map(rows -> rows.size() == 0 ? 0L : rows.iterator().next().getLong("value"));
    }

    public Future<Void> saveBotOffset(long offset) {
        return pool.preparedQuery(BOT_STATE_PUT)
                .execute(Tuple.of(BOT_OFFSET_KEY, offset))
                .mapEmpty();
    }

    /** Every agent with its spool state and whether it was heard from within {@code onlineWithin}. */
    public Future<RowSet<Row>> agents(Duration onlineWithin) {
        return pool.preparedQuery(STATUS_AGENTS).execute(Tuple.of(onlineWithin.toMillis()));
    }

    public Future<Long> launchesSince(OffsetDateTime since) {
        return pool.preparedQuery(STATUS_LAUNCHES_SINCE)
                .execute(Tuple.of(since))
                .map(rows -> rows.iterator().next().getLong("n"));
    }

    /** The five programs launched most since then ({@code process_name}, {@code n}). */
    public Future<RowSet<Row>> topProgramsSince(OffsetDateTime since) {
        return pool.preparedQuery(STATUS_TOP_PROGRAMS_SINCE).execute(Tuple.of(since));
    }

    /**
     * In one transaction: records as announced the agents silent for longer than {@code after} and not yet
     * announced, and forgets the announced ones heard from since; {@code announce} gets both (silent, back) and
     * its failure rolls the transaction back, so the next look tries again.
     */
    Future<Void> announceSilence(Duration after, BiFunction<RowSet<Row>, RowSet<Row>, Future<Void>> announce) {
        return pool.withTransaction(tx -> tx.preparedQuery(AGENTS_NEWLY_SILENT)
                .execute(Tuple.of(after.toMillis()))
                .compose(silent ->
                        tx.preparedQuery(AGENTS_BACK).execute().compose(back -> announce.apply(silent, back))));
    }

    /**
     * As {@link #announceSilence}, for the agents whose heartbeat reports a spool error not yet announced, and
     * the announced ones whose heartbeat reports a working spool again.
     */
    Future<Void> announceSpool(BiFunction<RowSet<Row>, RowSet<Row>, Future<Void>> announce) {
        return pool.withTransaction(tx -> tx.query(AGENTS_NEWLY_DEGRADED)
                .execute()
                .compose(degraded -> tx.query(AGENTS_SPOOL_RECOVERED)
                        .execute()
                        .compose(recovered -> announce.apply(degraded, recovered))));
    }
}
