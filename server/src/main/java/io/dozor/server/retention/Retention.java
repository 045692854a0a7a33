package io.dozor.server.retention;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch.cat.indices.IndicesRecord;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.index.EsClient;
import io.dozor.server.setup.IndexTemplate;
import io.dozor.server.store.CliDatabase;
import io.dozor.server.store.Sql;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One retention run: makes the month partitions of {@code events} ahead of need (and gives each month
 * found in the default partition its own), drops whole month partitions past retention together with
 * the rows that pointed at their events, deletes the Elasticsearch indices of the same months (and the
 * heartbeat indices, {@code dozor-heartbeats-YYYY.MM}, of months past retention), and bounds the small tables
 * by age. A PostgreSQL advisory lock (held on the one connection the run uses)
 * lets only one server run it at a time; the others skip. A month goes once all of it is older than
 * {@code retention.days}: events are kept at least that long and at most a month longer.
 *
 * <p>A dry run takes the same lock and counts the same things, and changes nothing.
 */
public final class Retention {
    /** Months after the current one that get their partition before any event needs it. */
    static final int MONTHS_AHEAD = 2;

    static final int INDEX_DELETE_BATCH = 50;
    /** Tries of one partition change whose lock wait timed out, {@link #LOCK_RETRY} apart, in one run. */
    static final int LOCK_ATTEMPTS = 5;

    static final java.time.Duration LOCK_RETRY = java.time.Duration.ofSeconds(1);
    static final Pattern PARTITION = Pattern.compile("events_p(\\d{4})_(\\d{2})");
    static final DateTimeFormatter INDEX_MONTH = DateTimeFormatter.ofPattern("yyyy.MM");

    /** What a report counts, the {@code what} label of {@code dozor_retention_removed_total}. */
    public static final List<String> WHAT = List.of(
            "events",
            "partitions",
            "indices",
            "outbox",
            "dead_letters",
            "notify_held",
            "notify_pairs",
            "agents",
            "agent_alerts");

    /** A partition with its events, or an index with its documents. */
    public record Gone(String name, long count) {}

    /**
     * {@code skipped}: another run held the lock. {@code created}: partitions made (or, dry, to make).
     * {@code removed}: counts by {@link #WHAT}. {@code problems}: steps that failed and are tried again next
     * run (a lock that timed out, Elasticsearch unreachable); the other steps still ran.
     */
    public record Report(
            boolean dryRun,
            boolean skipped,
            Optional<Instant> cutoff,
            List<String> created,
            List<Gone> partitions,
            List<Gone> indices,
            Map<String, Long> removed,
            List<String> problems) {
        static Report skipped(boolean dryRun) {
            return new Report(dryRun, true, Optional.empty(), List.of(), List.of(), List.of(), Map.of(), List.of());
        }
    }

    private final Pool pool;
    private final ElasticsearchAsyncClient elasticsearch;
    private final Context context;
    private final ServerConfig config;
    private final Clock clock;

    public Retention(
            Pool pool, ElasticsearchAsyncClient elasticsearch, Context context, ServerConfig config, Clock clock) {
        this.pool = pool;
        this.elasticsearch = elasticsearch;
        this.context = context;
        this.config = config;
        this.clock = clock;
    }

    /**
     * {@code dozor-server retention [--dry-run]}: one run from the command line with the server's settings,
     * on its own Vert.x, pool and Elasticsearch client (the schema is brought up to date first, as every
     * command does). Waits on the caller's thread.
     */
    public static Report once(ServerConfig config, boolean dryRun, Clock clock) {
        try (CliDatabase db = CliDatabase.open(config);
                EsClient es = EsClient.connect(config.elasticsearch().urls())) {
            return new Retention(db.pool(), es.async(), db.vertx().getOrCreateContext(), config, clock)
                    .run(dryRun)
                    .await();
        }
    }

    public Future<Report> run(boolean dryRun) {
        return pool.withConnection(conn -> conn.preparedQuery(Sql.RETENTION_LOCK_TRY)
                .execute(Tuple.of(Sql.RETENTION_LOCK))
                .compose(rows -> !rows.iterator().next().getBoolean("locked")
                        ? Future.succeededFuture(Report.skipped(dryRun))
                        : new Run(conn, dryRun)
                                .all()
                                .eventually(() -> conn.preparedQuery(Sql.RETENTION_LOCK_RELEASE)
                                        .execute(Tuple.of(Sql.RETENTION_LOCK)))));
    }

    /** The month a partition name stands for, if it is one of ours. */
    static Optional<YearMonth> partitionMonth(String name) {
        Matcher m = PARTITION.matcher(name);
        return m.matches()
                ? Optional.of(YearMonth.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))))
                : Optional.empty();
    }

    static String partitionName(YearMonth month) {
        return String.format("events_p%04d_%02d", month.getYear(), month.getMonthValue());
    }

    /** The month of an index {@code <prefix>-YYYY.MM}, if the name is exactly that. */
    static Optional<YearMonth> indexMonth(String prefix, String index) {
        if (!index.startsWith(prefix + "-")) {
            return Optional.empty();
        }
        String rest = index.substring(prefix.length() + 1);
        if (!rest.matches("\\d{4}\\.\\d{2}")) {
            return Optional.empty();
        }
        try {
            return Optional.of(YearMonth.parse(rest, INDEX_MONTH));
        } catch (java.time.format.DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** A month goes when all of it lies before the cutoff. */
    static boolean past(YearMonth month, Instant cutoff) {
        return !start(month.plusMonths(1)).toInstant().isAfter(cutoff);
    }

    static OffsetDateTime start(YearMonth month) {
        return month.atDay(1).atStartOfDay().atOffset(ZoneOffset.UTC);
    }

    /** One run's state on the locked connection; steps run one after another. */
    private final class Run {
        private final SqlConnection conn;
        private final boolean dry;
        private final Instant now = clock.instant();
        private final Optional<Instant> cutoff;
        private final List<String> created = new ArrayList<>();
        private final List<Gone> partitions = new ArrayList<>();
        private final List<Gone> indices = new ArrayList<>();
        private final Map<String, Long> removed = new LinkedHashMap<>();
        private final List<String> problems = new ArrayList<>();
        /** Months whose events are still in PostgreSQL (a partition not made or not dropped): their index stays. */
        private final java.util.Set<YearMonth> stuck = new java.util.HashSet<>();

        Run(SqlConnection conn, boolean dry) {
            this.conn = conn;
            this.dry = dry;
            ServerConfig.Retention r = config.retention();
            this.cutoff = r.keepsEverything()
                    ? Optional.empty()
                    : Optional.of(now.minus(java.time.Duration.ofDays(r.days())));
            WHAT.forEach(w -> removed.put(w, 0L));
        }

        Future<Report> all() {
            return ensurePartitions()
                    .compose(existing -> dropPartitions(existing))
                    .compose(v -> smallTables())
                    .compose(v -> indices())
                    .map(v -> new Report(
                            dry,
                            false,
                            cutoff,
                            List.copyOf(created),
                            List.copyOf(partitions),
                            List.copyOf(indices),
                            Map.copyOf(removed),
                            List.copyOf(problems)));
        }

        /** Answers the months that have (or, dry, would have) a partition after this step. */
        private Future<TreeSet<YearMonth>> ensurePartitions() {
            YearMonth current = YearMonth.from(now.atOffset(ZoneOffset.UTC));
            TreeSet<YearMonth> existing = new TreeSet<>();
            TreeSet<YearMonth> wanted = new TreeSet<>();
            for (int k = 0; k <= MONTHS_AHEAD; k++) {
                wanted.add(current.plusMonths(k));
            }
            return conn.query(Sql.EVENTS_PARTITIONS)
                    .execute()
                    .compose(rows -> {
                        rows.forEach(r -> partitionMonth(r.getString("name")).ifPresent(existing::add));
                        return conn.query(Sql.EVENTS_DEFAULT_MONTHS).execute();
                    })
                    .compose(rows -> {
                        rows.forEach(r -> wanted.add(YearMonth.parse(r.getString("month"))));
                        wanted.removeAll(existing);
                        Future<Void> chain = Future.succeededFuture();
                        for (YearMonth month : wanted) {
                            chain = chain.compose(v -> createPartition(month).map(made -> {
                                if (made) {
                                    created.add(partitionName(month));
                                    existing.add(month);
                                }
                                return null;
                            }));
                        }
                        return chain.map(v -> existing);
                    });
        }

        private Future<Boolean> createPartition(YearMonth month) {
            if (dry) {
                return Future.succeededFuture(true);
            }
            return inTransaction(() -> conn.preparedQuery(Sql.EVENTS_ENSURE_MONTH)
                            .execute(Tuple.of(start(month)))
                            .map(rows -> rows.iterator().next().getBoolean("created")))
                    .recover(err -> {
                        stuck.add(month);
                        problems.add("partition " + partitionName(month) + " not made (next run tries again): "
                                + err.getMessage());
                        return Future.succeededFuture(false);
                    });
        }

        private Future<Void> dropPartitions(TreeSet<YearMonth> existing) {
            if (cutoff.isEmpty()) {
                return Future.succeededFuture();
            }
            Future<Void> chain = Future.succeededFuture();
            for (YearMonth month : existing) {
                if (past(month, cutoff.get())) {
                    chain = chain.compose(v -> dropPartition(month));
                }
            }
            return chain;
        }

        /**
         * In one transaction, under a lock of events (waited for at most {@link Sql#RETENTION_LOCK_TIMEOUT}):
         * the rows pointing at the partition's events, then the partition. Dry: counts only; a month still
         * in the default partition is counted there.
         */
        private Future<Void> dropPartition(YearMonth month) {
            String name = partitionName(month);
            if (dry) {
                return conn.preparedQuery(Sql.DRY_MONTH_COUNTS)
                        .execute(Tuple.of(start(month), start(month.plusMonths(1))))
                        .map(rows -> {
                            Row row = rows.iterator().next();
                            partitions.add(new Gone(name, row.getLong("events")));
                            add("events", row.getLong("events"));
                            add("partitions", 1);
                            add("outbox", row.getLong("outbox"));
                            add("dead_letters", row.getLong("dead_letters"));
                            add("notify_held", row.getLong("notify_held"));
                            return null;
                        });
            }
            long[] counts = new long[4];
            return inTransaction(() -> conn.query(Sql.EVENTS_LOCK)
                            .execute()
                            .compose(v -> count(String.format(Sql.PARTITION_COUNT, name), Tuple.tuple()))
                            .map(n -> counts[0] = n)
                            .compose(v -> count(String.format(Sql.PARTITION_OUTBOX_DELETE, name), Tuple.tuple()))
                            .map(n -> counts[1] = n)
                            .compose(v -> count(String.format(Sql.PARTITION_DEAD_LETTERS_DELETE, name), Tuple.tuple()))
                            .map(n -> counts[2] = n)
                            .compose(v -> count(String.format(Sql.PARTITION_NOTIFY_HELD_DELETE, name), Tuple.tuple()))
                            .map(n -> counts[3] = n)
                            .compose(v -> conn.query(String.format(Sql.PARTITION_DROP, name))
                                    .execute()))
                    .map(v -> {
                        partitions.add(new Gone(name, counts[0]));
                        add("events", counts[0]);
                        add("partitions", 1);
                        add("outbox", counts[1]);
                        add("dead_letters", counts[2]);
                        add("notify_held", counts[3]);
                        return (Void) null;
                    })
                    .recover(err -> {
                        stuck.add(month);
                        problems.add("partition " + name + " not dropped (next run tries again): " + err.getMessage());
                        return Future.succeededFuture();
                    });
        }

        /**
         * Age bounds. A dry run leaves out the rows of the months that go (counted with them already): the
         * months before {@code boundary}, the first day of the cutoff's month.
         */
        private Future<Void> smallTables() {
            OffsetDateTime boundary = cutoff.map(c -> start(YearMonth.from(c.atOffset(ZoneOffset.UTC))))
                    .orElse(null);
            Future<Void> chain = dry
                    ? rows("notify_held", Sql.RETENTION_NOTIFY_HELD_COUNT, Tuple.of(boundary))
                    : rows("notify_held", Sql.RETENTION_NOTIFY_HELD, Tuple.tuple());
            if (cutoff.isEmpty()) {
                return chain.recover(this::smallTablesFailed);
            }
            OffsetDateTime at = cutoff.get().atOffset(ZoneOffset.UTC);
            OffsetDateTime pairsAt = at.minus(config.telegram().cooldown());
            return chain.compose(v -> dry
                            ? rows("outbox", Sql.RETENTION_OUTBOX_STALE_COUNT, Tuple.of(at, boundary))
                            : rows("outbox", Sql.RETENTION_OUTBOX_STALE, Tuple.of(at)))
                    .compose(v -> dry
                            ? rows("dead_letters", Sql.RETENTION_DEAD_LETTERS_COUNT, Tuple.of(at, boundary))
                            : rows("dead_letters", Sql.RETENTION_DEAD_LETTERS, Tuple.of(at)))
                    .compose(v -> rows(
                            "notify_pairs",
                            dry ? Sql.RETENTION_NOTIFY_PAIRS_COUNT : Sql.RETENTION_NOTIFY_PAIRS,
                            Tuple.of(pairsAt)))
                    .compose(v -> conn.preparedQuery(dry ? Sql.RETENTION_AGENTS_COUNT : Sql.RETENTION_AGENTS)
                            .execute(Tuple.of(at)))
                    .map(result -> {
                        Row row = result.iterator().next();
                        add("agents", row.getLong("agents"));
                        add("agent_alerts", row.getLong("alerts"));
                        return (Void) null;
                    })
                    .recover(this::smallTablesFailed);
        }

        private Future<Void> smallTablesFailed(Throwable err) {
            problems.add("small tables (next run tries again): " + err.getMessage());
            return Future.succeededFuture();
        }

        private Future<Void> rows(String what, String sql, Tuple params) {
            return count(sql, params).map(n -> {
                add(what, n);
                return null;
            });
        }

        private Future<Void> indices() {
            if (cutoff.isEmpty()) {
                return Future.succeededFuture();
            }
            String prefix = config.elasticsearch().indexPrefix();
            String heartbeats = IndexTemplate.HEARTBEATS_PREFIX;
            return Future.fromCompletionStage(
                            elasticsearch.cat().indices(r -> r.index(prefix + "-*", heartbeats + "-*")), context)
                    .compose(response -> {
                        List<Gone> past = new ArrayList<>();
                        for (IndicesRecord record : response.indices()) {
                            String index = record.index();
                            // a launch month's index goes with its partition; a heartbeats month has no rows left
                            // behind it
                            Optional<YearMonth> month = index == null
                                    ? Optional.empty()
                                    : indexMonth(prefix, index)
                                            .filter(m -> !stuck.contains(m))
                                            .or(() -> indexMonth(heartbeats, index));
                            if (month.filter(m -> past(m, cutoff.get())).isPresent()) {
                                past.add(new Gone(index, parseCount(record.docsCount())));
                            }
                        }
                        past.sort(java.util.Comparator.comparing(Gone::name));
                        return dry ? Future.succeededFuture(past) : deleteIndices(past);
                    })
                    .map(gone -> {
                        indices.addAll(gone);
                        add("indices", gone.size());
                        return (Void) null;
                    })
                    .recover(err -> {
                        problems.add("elasticsearch indices (next run tries again): " + err.getMessage());
                        return Future.succeededFuture();
                    });
        }

        private Future<List<Gone>> deleteIndices(List<Gone> past) {
            Future<List<Gone>> chain = Future.succeededFuture(new ArrayList<>());
            for (int i = 0; i < past.size(); i += INDEX_DELETE_BATCH) {
                List<Gone> batch = past.subList(i, Math.min(past.size(), i + INDEX_DELETE_BATCH));
                chain = chain.compose(done -> Future.fromCompletionStage(
                                elasticsearch
                                        .indices()
                                        .delete(d -> d.index(
                                                batch.stream().map(Gone::name).toList())),
                                context)
                        .map(response -> {
                            done.addAll(batch);
                            return done;
                        }));
            }
            return chain;
        }

        private void add(String what, long n) {
            removed.merge(what, n, Long::sum);
        }

        private Future<Long> count(String sql, Tuple params) {
            return conn.preparedQuery(sql)
                    .execute(params)
                    .map(rows -> rows.iterator().next().getLong("n"));
        }

        /**
         * DDL waits at most {@link Sql#RETENTION_LOCK_TIMEOUT} for its lock (an outbox claim holds a share
         * lock of events while it delivers); given up, it is tried again a second later, a few times.
         */
        private <T> Future<T> inTransaction(java.util.function.Supplier<Future<T>> work) {
            return inTransaction(work, LOCK_ATTEMPTS);
        }

        private <T> Future<T> inTransaction(java.util.function.Supplier<Future<T>> work, int attempts) {
            return once(work)
                    .recover(err -> attempts > 1 && lockWait(err)
                            ? context.owner()
                                    .timer(LOCK_RETRY.toMillis())
                                    .compose(v -> inTransaction(work, attempts - 1))
                            : Future.failedFuture(err));
        }

        private static boolean lockWait(Throwable err) {
            return err instanceof io.vertx.pgclient.PgException pg
                    && ("55P03".equals(pg.getSqlState()) || "40P01".equals(pg.getSqlState()));
        }

        private <T> Future<T> once(java.util.function.Supplier<Future<T>> work) {
            return conn.begin()
                    .compose(tx -> conn.query(Sql.RETENTION_LOCK_TIMEOUT)
                            .execute()
                            .compose(v -> work.get())
                            .compose(result -> tx.commit().map(result))
                            .recover(err -> tx.rollback().transform(ignored -> Future.failedFuture(err))));
        }
    }

    private static long parseCount(String value) {
        try {
            return value == null ? 0 : Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Lines for the CLI, one per partition or index that goes (or would go) and one per problem. */
    public static List<String> describe(Report report) {
        List<String> lines = new ArrayList<>();
        boolean dry = report.dryRun();
        report.created().forEach(p -> lines.add((dry ? "would create" : "created") + " partition " + p));
        report.partitions()
                .forEach(g -> lines.add(
                        (dry ? "would drop" : "dropped") + " partition " + g.name() + " (" + g.count() + " events)"));
        report.indices()
                .forEach(g -> lines.add(
                        (dry ? "would delete" : "deleted") + " index " + g.name() + " (" + g.count() + " documents)"));
        report.problems().forEach(p -> lines.add("problem: " + p));
        return lines;
    }

    /** {@code events=12 partitions=1 ...} in the order of {@link #WHAT}. */
    public static String counts(Report report) {
        StringBuilder out = new StringBuilder();
        for (String what : WHAT) {
            out.append(out.isEmpty() ? "" : " ")
                    .append(what)
                    .append('=')
                    .append(report.removed().getOrDefault(what, 0L));
        }
        return out.toString();
    }
}
