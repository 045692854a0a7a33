package io.dozor.server.bench;

import io.dozor.server.BenchAccess;
import io.dozor.server.DozorServer;
import io.dozor.server.GrowthAccess;
import io.dozor.server.config.ConfigLoader;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.ops.Meters;
import io.dozor.server.store.QueryVerticle;
import io.dozor.server.store.Sql;
import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Cost as the data grows (see BENCHMARKS.md); run it with {@code server/bench/growth.sh}. Not a test.
 *
 * <p>One fresh database, migrated by the server's own migrations, and the real server in this JVM. For each
 * size (empty, then {@code ROWS}, default 1 M and 10 M), the table is filled by {@code COPY} up to that size
 * with a year of launches (12 month partitions, {@code HOSTS} agents each with its host and mostly one of
 * {@code USERS} users, 20 process names of very unequal frequency), vacuumed and analysed as autovacuum would
 * leave it, then:
 * <ol>
 *   <li>the admin API's common queries over HTTPS ({@code GET /api/v1/events}: last 100 by user, by process, by
 *       agent, by a one-day time range, and the next page by cursor), {@code QUERIES} of each with random
 *       values, p50/p99/max, plus {@code EXPLAIN (ANALYZE, BUFFERS)} of one of each into the report;</li>
 *   <li>ingest: the agents of {@link IngestBenchmark} posting {@code INGEST_EVENTS} in a closed loop, the
 *       acknowledged rate and the end-to-end rate (committed and indexed in ES), {@code INGEST_ROUNDS} times;</li>
 *   <li>{@code dozor-server reindex --since} the newest month, as the CLI runs it (its own JVM, into its own
 *       index prefix), with its RSS sampled and the heap after each GC from its GC log.</li>
 * </ol>
 */
public final class GrowthBenchmark {
    /** A year of launches: December 2025 to November 2026 (the newest month is the one ingest writes to). */
    static final OffsetDateTime FIRST_MONTH = OffsetDateTime.parse("2025-12-01T00:00:00Z");

    static final int MONTHS = 12;
    static final OffsetDateTime NEWEST_MONTH = FIRST_MONTH.plusMonths(MONTHS - 1);
    static final String[] PROCESSES = {
        "explorer.exe",
        "chrome.exe",
        "msedge.exe",
        "Teams.exe",
        "OUTLOOK.EXE",
        "WINWORD.EXE",
        "EXCEL.EXE",
        "Telegram.exe",
        "notepad.exe",
        "cmd.exe",
        "powershell.exe",
        "Code.exe",
        "firefox.exe",
        "mstsc.exe",
        "AcroRd32.exe",
        "1cv8.exe",
        "POWERPNT.EXE",
        "Zoom.exe",
        "putty.exe",
        "regedit.exe"
    };
    static final String COPY_SQL = "COPY events (event_id, \"timestamp\", username, process_name, agent_id, pid, "
            + "executable, hostname, parent_pid, parent_name, user_domain, os_type, os_family, agent_version, received_at) "
            + "FROM STDIN WITH (FORMAT csv)";
    static final String REINDEX_PREFIX = "dozor-bench-reindex";

    final List<Long> sizes = Arrays.stream(
                    System.getenv().getOrDefault("ROWS", "1000000,10000000").split(","))
            .map(String::strip)
            .map(Long::parseLong)
            .toList();
    final int hosts = IngestBenchmark.env("HOSTS", 5_000);
    final int users = IngestBenchmark.env("USERS", 3_000);
    final int queries = IngestBenchmark.env("QUERIES", 200);
    final int ingestEvents = IngestBenchmark.env("INGEST_EVENTS", 100_000);
    final int ingestRounds = IngestBenchmark.env("INGEST_ROUNDS", 3);
    /** Events sent before the first measurement (JIT, connections, the index). */
    final int warmup = IngestBenchmark.env("WARMUP", ingestEvents);

    final boolean reindex = IngestBenchmark.env("REINDEX", 1) == 1;
    /** Stop the reindex after this long (0: let it finish); what it indexed by then is counted in ES. */
    final int reindexSeconds = IngestBenchmark.env("REINDEX_SECONDS", 0);

    final Path outDir = Path.of(System.getenv().getOrDefault("OUT", "server/target/bench"));
    final List<String> lines = new ArrayList<>();
    final List<String> explains = new ArrayList<>();
    /** Process name weights: Zipf-like, explorer.exe about 400 times as frequent as regedit.exe. */
    final double[] processCdf = cdf(PROCESSES.length, 2.0);

    final IngestBenchmark ingest = new IngestBenchmark();
    CpuClock clock;
    final Random random = new Random(7);
    /** By table size: the SQL of each query kind without the filter indexes (when the schema has them). */
    final Map<Long, Map<String, Latencies>> withoutIndexes = new LinkedHashMap<>();
    /** By table size: the one-day ranges as the server runs them and as it ran them before V12. */
    final Map<Long, BeforeAfter> beforeV12 = new LinkedHashMap<>();

    public static void main(String[] args) {
        int status = 0;
        try {
            new GrowthBenchmark().run();
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.exit(status); // HTTP client and pool threads are not daemons
    }

    /** Figures of one size of the table. */
    record Step(long rows, Map<String, Latencies> queries, List<Rate> ingest, Reindex reindex, double copySeconds) {}

    /** One ingest round: events/s acknowledged and end to end; CPU seconds per 100 000 events of PostgreSQL and the JVM. */
    record Rate(double acked, double endToEnd, double pgCpu, double jvmCpu) {}

    /** Latencies of one kind of query: over HTTPS, and of its SQL alone through JDBC. */
    record Latencies(long[] nanos, long[] sqlNanos, int rows) {
        double ms(double p) {
            int i = (int) Math.ceil(p / 100.0 * nanos.length) - 1;
            return nanos[Math.max(0, Math.min(nanos.length - 1, i))] / 1e6;
        }

        double sqlMs(double p) {
            int i = (int) Math.ceil(p / 100.0 * sqlNanos.length) - 1;
            return sqlNanos[Math.max(0, Math.min(sqlNanos.length - 1, i))] / 1e6;
        }
    }

    /**
     * The same queries timed as the server runs them now ({@code after}, {@code ranged} of them by
     * EVENTS_PAGE_RANGE) and before V12 ({@code before}: EVENTS_PAGE with the index on "timestamp" alone), and
     * V12's index built on this table.
     */
    record BeforeAfter(long[] after, long[] before, int ranged, double buildSeconds) {
        static double ms(long[] sorted, double p) {
            int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
        }

        static String cell(long[] sorted) {
            return String.format(Locale.ROOT, "%.1f / %.1f / %.1f", ms(sorted, 50), ms(sorted, 99), ms(sorted, 100));
        }
    }

    record Reindex(long events, double seconds, long[] rssKb, long[] heapAfterGcKb, long rssMaxKb, long heapMaxKb) {}

    void run() throws Exception {
        Files.createDirectories(outDir);
        Path dir = Files.createTempDirectory("dozor-growth-");
        log("starting Elasticsearch and a fresh PostgreSQL database");
        Elasticsearch es = Elasticsearch.shared();
        clock = new CpuClock(es.process());
        try (PostgresDatabase db = PostgresDatabase.create()) {
            if (ingest.cpus != null) {
                log(ingest.cpus.apply(es));
            }
            ingest.migrate(db);
            // the month partitions a server running for that year would have made (Retention makes each month's)
            for (int m = 0; m < MONTHS; m++) {
                db.execute("SELECT events_ensure_month('" + FIRST_MONTH.plusMonths(m) + "')");
            }
            Map<String, String> env = ingest.serverEnv(db, es, dir);
            env.put("DOZOR_RETENTION_DAYS", "0"); // the year of test data stays
            ServerConfig config = new ConfigLoader(env).load(Optional.empty());
            Vertx vertx = DozorServer.vertx(Meters.vertxOptions(), config);
            DozorServer server = DozorServer.start(vertx, config).await();
            List<Step> steps = new ArrayList<>();
            try (Connection jdbc = jdbc(db)) {
                ingest.awaitTemplate(es);
                String base = "https://127.0.0.1:" + server.port();
                List<IngestBenchmark.Agent> fleet = new ArrayList<>();
                for (int i = 1; i <= ingest.agents; i++) {
                    String id = String.format(Locale.ROOT, "pc-%03d", i);
                    fleet.add(ingest
                    .new Agent(
                            id,
                            BenchAccess.agentToken(config, id),
                            URI.create(base + "/api/v1/events"),
                            dir.resolve("tls/ca.pem")));
                }
                Admin admin =
                        new Admin(base, GrowthAccess.adminToken(config, "growth-bench"), dir.resolve("tls/ca.pem"));
                log("warm-up: " + warmup + " events");
                load(fleet, warmup);
                awaitIndexed(db, es);

                long copied = 0;
                List<Long> targets = new ArrayList<>();
                targets.add(0L);
                targets.addAll(sizes);
                for (long target : targets) {
                    double copySeconds = 0;
                    if (target > copied) {
                        long t0 = System.nanoTime();
                        copy(jdbc, copied, target - copied, target);
                        copySeconds = (System.nanoTime() - t0) / 1e9;
                        copied = target;
                        log("VACUUM ANALYZE events");
                        db.execute("VACUUM ANALYZE events");
                    }
                    long rows = db.count("events");
                    log("== " + rows + " rows in events");
                    Map<String, Latencies> q = target == 0 ? Map.of() : queryAll(admin, jdbc, rows);
                    List<Rate> rates = new ArrayList<>();
                    for (int r = 0; r < ingestRounds; r++) {
                        rates.add(ingestRate(fleet, db, es));
                    }
                    Reindex reindex = null;
                    if (target > 0 && this.reindex) {
                        try {
                            reindex = reindex(env, es, dir, rows);
                        } catch (Exception e) {
                            log("  reindex failed: " + e);
                        }
                    }
                    steps.add(new Step(rows, q, rates, reindex, copySeconds));
                }
                report(steps);
            } finally {
                server.close().await();
                vertx.close().await();
                es.request("DELETE", "/" + IngestBenchmark.E2E_PREFIX + "-*", null);
                es.request("DELETE", "/" + REINDEX_PREFIX + "-*", null);
            }
        } finally {
            if (ingest.cpus != null) {
                ingest.cpus.close();
            }
        }
    }

    // ------------------------------------------------------------------ data

    static Connection jdbc(PostgresDatabase db) throws Exception {
        PgConnectOptions o = PgConnectOptions.fromUri(db.url());
        Properties props = new Properties();
        props.setProperty("user", o.getUser());
        props.setProperty("prepareThreshold", "0"); // unnamed statements: planned for their values every time
        if (o.getPassword() != null && !o.getPassword().isEmpty()) {
            props.setProperty("password", o.getPassword());
        }
        return DriverManager.getConnection(
                "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase(), props);
    }

    static double[] cdf(int n, double s) {
        double[] c = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1 / Math.pow(i + 1, s);
            c[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            c[i] /= sum;
        }
        return c;
    }

    String process(Random r) {
        double x = r.nextDouble();
        for (int i = 0; i < processCdf.length; i++) {
            if (x < processCdf[i]) {
                return PROCESSES[i];
            }
        }
        return PROCESSES[PROCESSES.length - 1];
    }

    static String agentId(int k) {
        return String.format(Locale.ROOT, "ws-%05d", k);
    }

    static String user(int k) {
        return String.format(Locale.ROOT, "user%04d", k);
    }

    /**
     * Rows {@code from} to {@code from + n} of a table that will hold {@code total}: each row's launch time is
     * its place in the year, so ids grow with time as they do when agents deliver as they go. The rows of a
     * later, larger size go between those already there (same year, more launches per day).
     */
    void copy(Connection jdbc, long from, long n, long total) throws Exception {
        log("COPY " + n + " rows into events (year " + FIRST_MONTH.toLocalDate() + " + 12 months)");
        long yearNanos =
                Duration.between(FIRST_MONTH, FIRST_MONTH.plusMonths(MONTHS)).toNanos();
        Random r = new Random(from * 31 + 1);
        CopyIn copy = jdbc.unwrap(PGConnection.class).getCopyAPI().copyIn(COPY_SQL);
        StringBuilder sb = new StringBuilder(1 << 21);
        long t0 = System.nanoTime();
        try {
            for (long i = 0; i < n; i++) {
                // evenly over the year, the new rows interleaved with any already there
                long at = (long) ((double) yearNanos * i / n) + r.nextLong(Math.max(1, yearNanos / n));
                OffsetDateTime ts = FIRST_MONTH.plusNanos(at / 1000 * 1000);
                int host = 1 + r.nextInt(hosts);
                // a host has its main user; one launch in ten is someone else's session
                int u = r.nextInt(10) == 0 ? 1 + r.nextInt(users) : 1 + (int) ((host * 2_654_435_761L) % users);
                String process = process(r);
                String agent = agentId(host);
                UUID id = new UUID(
                        r.nextLong() & ~0xF000L | 0x4000L, r.nextLong() & 0x3FFFFFFFFFFFFFFFL | 0x8000000000000000L);
                sb.append(id)
                        .append(',')
                        .append(ts)
                        .append(',')
                        .append(user(u))
                        .append(',')
                        .append(process)
                        .append(',')
                        .append(agent)
                        .append(',')
                        .append(1_000 + r.nextInt(60_000))
                        .append(",\"C:\\Program Files\\Apps\\")
                        .append(process)
                        .append("\",")
                        .append(agent.toUpperCase(Locale.ROOT))
                        .append(',')
                        .append(500 + r.nextInt(5_000))
                        .append(",explorer.exe,CORP,windows,windows,1.4.2,")
                        .append(ts.plusNanos(300_000_000L + r.nextInt(1_000_000_000)))
                        .append('\n');
                if (sb.length() > (1 << 20)) {
                    byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
                    copy.writeToCopy(b, 0, b.length);
                    sb.setLength(0);
                }
                if ((i + 1) % 1_000_000 == 0) {
                    log(String.format(
                            Locale.ROOT, "  %d rows, %.0f rows/s", i + 1, (i + 1) / ((System.nanoTime() - t0) / 1e9)));
                }
            }
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            copy.writeToCopy(b, 0, b.length);
            long rows = copy.endCopy();
            IngestBenchmark.check(rows == n, "COPY stored " + rows + " of " + n);
        } finally {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        }
        log(String.format(Locale.ROOT, "  %d rows in %.1f s", n, (System.nanoTime() - t0) / 1e9));
    }

    // ------------------------------------------------------------------ admin queries

    /** The admin API over HTTPS with one keep-alive connection, as a script or Kibana-less admin would use it. */
    static final class Admin {
        final String base;
        final String token;
        final HttpClient http;

        Admin(String base, String token, Path ca) {
            this.base = base;
            this.token = token;
            this.http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .sslContext(DevCertificates.trusting(ca))
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
        }

        JsonObject events(String query) throws Exception {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/api/v1/events?" + query))
                            .timeout(Duration.ofSeconds(60))
                            .header("Authorization", "Bearer " + token)
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            IngestBenchmark.check(
                    r.statusCode() == 200, "GET /api/v1/events?" + query + ": " + r.statusCode() + " " + r.body());
            return new JsonObject(r.body());
        }
    }

    static String enc(String v) {
        return URLEncoder.encode(v, StandardCharsets.UTF_8);
    }

    /** A first page's query of one kind with random values; the SQL parameters of EVENTS_PAGE beside it. */
    record Query(String http, Object[] sql) {}

    Query byUser(Random r) {
        String u = user(1 + r.nextInt(users));
        return new Query("user=" + u, new Object[] {null, null, u, null, null, null});
    }

    Query byProcess(Random r) {
        String p = PROCESSES[r.nextInt(PROCESSES.length)]; // every name alike: the rare ones are the hard ones
        return new Query("process=" + enc(p), new Object[] {null, null, null, p, null, null});
    }

    Query byAgent(Random r) {
        String a = agentId(1 + r.nextInt(hosts));
        return new Query("agent=" + a, new Object[] {null, null, null, null, a, null});
    }

    Query byDay(Random r) {
        OffsetDateTime from = FIRST_MONTH.plusDays(r.nextInt(365)).plusHours(r.nextInt(24));
        OffsetDateTime to = from.plusDays(1);
        return new Query(
                "from=" + enc(from.toString()) + "&to=" + enc(to.toString()),
                new Object[] {from, to, null, null, null, null});
    }

    Map<String, Latencies> queryAll(Admin admin, Connection jdbc, long rows) throws Exception {
        Map<String, Function<Random, Query>> kinds = new LinkedHashMap<>();
        kinds.put("last 100 by user", this::byUser);
        kinds.put("last 100 by process", this::byProcess);
        kinds.put("last 100 by agent", this::byAgent);
        kinds.put("last 100 in a one-day range", this::byDay);
        Map<String, Latencies> out = new LinkedHashMap<>();
        // a few of each first, not counted (connection, TLS, the server's prepared statements, caches)
        for (var kind : kinds.values()) {
            for (int i = 0; i < 10; i++) {
                admin.events(kind.apply(random).http());
            }
        }
        List<Function<Random, Query>> all = new ArrayList<>(kinds.values());
        try (Pages page = new Pages(jdbc)) {
            for (var kind : kinds.entrySet()) {
                out.put(kind.getKey(), measure(admin, page, kind.getValue(), false));
            }
            out.put(
                    "next page by cursor (any of the above)",
                    measure(admin, page, r -> all.get(r.nextInt(all.size())).apply(r), true));
        }
        for (var e : out.entrySet()) {
            Latencies l = e.getValue();
            log(String.format(
                    Locale.ROOT,
                    "  %-40s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (SQL alone p50 %.1f p99 %.1f ms;"
                            + " %d rows per answer on average)",
                    e.getKey(),
                    l.ms(50),
                    l.ms(99),
                    l.ms(100),
                    l.sqlMs(50),
                    l.sqlMs(99),
                    l.rows()));
        }
        explain(jdbc, rows + " rows", kinds, Pages::picked);
        try {
            withoutIndexes.put(rows, withoutFilterIndexes(jdbc, rows, kinds));
        } catch (Exception e) {
            log("  without the filter indexes: failed: " + e);
        }
        try {
            beforeV12.put(rows, beforeV12(jdbc, rows, this::byDay));
        } catch (Exception e) {
            log("  before V12: failed: " + e);
        }
        return out;
    }

    /**
     * {@code queries} of one kind over HTTPS, each followed by the same statement with the same values through
     * JDBC (unnamed statements, so planned for the values each time, as the server's pool does).
     */
    Latencies measure(Admin admin, Pages sql, Function<Random, Query> kind, boolean nextPage) throws Exception {
        long[] nanos = new long[queries];
        long[] sqlNanos = new long[queries];
        long rows = 0;
        for (int i = 0; i < queries; i++) {
            Query query = kind.apply(random);
            String q = query.http();
            Object[] args = query.sql().clone();
            if (nextPage) {
                String cursor = admin.events(q).getString("next_cursor");
                if (cursor == null) {
                    i--;
                    continue;
                }
                q += "&cursor=" + cursor;
                args[5] = Long.parseLong(cursor);
            }
            long t0 = System.nanoTime();
            JsonObject page = admin.events(q);
            nanos[i] = System.nanoTime() - t0;
            rows += page.getJsonArray("events").size();
            sqlNanos[i] = sql.time(args);
        }
        Arrays.sort(nanos);
        Arrays.sort(sqlNanos);
        return new Latencies(nanos, sqlNanos, (int) (rows / queries));
    }

    /**
     * The admin API's page statements through JDBC (unnamed statements, planned for their values), each query
     * run by the statement the server picks for it ({@code QueryVerticle.pageStatement}).
     */
    static final class Pages implements AutoCloseable {
        final Connection jdbc;
        final Map<String, PreparedStatement> prepared = new LinkedHashMap<>();

        Pages(Connection jdbc) {
            this.jdbc = jdbc;
        }

        /** The statement the server runs for these values of EVENTS_PAGE's parameters. */
        static String picked(Object[] args) {
            return QueryVerticle.pageStatement(
                    (OffsetDateTime) args[0], (OffsetDateTime) args[1], (Long) args[5], Instant.now());
        }

        long time(Object[] args) throws Exception {
            return time(picked(args), args);
        }

        /** Runs {@code statement} with these values (and a limit of 101, as the server asks), answers its time. */
        long time(String statement, Object[] args) throws Exception {
            PreparedStatement sql = prepared.get(statement);
            if (sql == null) {
                sql = jdbc.prepareStatement(statement.replaceAll("\\$\\d+", "?"));
                prepared.put(statement, sql);
            }
            // the $n of each ?, in order (a parameter may occur twice)
            int[] params = Pattern.compile("\\$(\\d+)")
                    .matcher(statement)
                    .results()
                    .mapToInt(m -> Integer.parseInt(m.group(1)))
                    .toArray();
            for (int q = 0; q < params.length; q++) {
                int a = params[q] - 1;
                Object v = a < args.length ? args[a] : Integer.valueOf(101);
                switch (v) {
                    case null ->
                        sql.setNull(
                                q + 1, a < 2 ? Types.TIMESTAMP_WITH_TIMEZONE : a == 5 ? Types.BIGINT : Types.VARCHAR);
                    case String t -> sql.setString(q + 1, t);
                    case Long n -> sql.setLong(q + 1, n);
                    case Integer n -> sql.setInt(q + 1, n);
                    default -> sql.setObject(q + 1, v);
                }
            }
            long t0 = System.nanoTime();
            try (ResultSet rs = sql.executeQuery()) {
                while (rs.next()) {
                    rs.getLong(1);
                }
            }
            return System.nanoTime() - t0;
        }

        @Override
        public void close() throws Exception {
            for (PreparedStatement p : prepared.values()) {
                p.close();
            }
        }
    }

    static final String FILTER_INDEXES = "events_agent_id_idx, events_username_id_idx, events_process_id_idx";

    /**
     * The same statements without the filter indexes (dropped in a transaction that is rolled back, with
     * nothing else running): {@code QUERIES / 10} of each kind timed through JDBC, and their plans.
     */
    Map<String, Latencies> withoutFilterIndexes(Connection jdbc, long rows, Map<String, Function<Random, Query>> kinds)
            throws Exception {
        Map<String, Latencies> out = new LinkedHashMap<>();
        try (Statement st = jdbc.createStatement();
                ResultSet rs = st.executeQuery("SELECT to_regclass('events_agent_id_idx') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return out;
            }
        }
        int n = Math.max(5, queries / 10);
        jdbc.setAutoCommit(false);
        try (Statement st = jdbc.createStatement();
                Pages page = new Pages(jdbc)) {
            st.execute("DROP INDEX " + FILTER_INDEXES);
            for (var kind : kinds.entrySet()) {
                long[] nanos = new long[n];
                for (int i = 0; i < n; i++) {
                    nanos[i] = page.time(kind.getValue().apply(random).sql());
                }
                Arrays.sort(nanos);
                Latencies l = new Latencies(nanos, nanos, 0);
                out.put(kind.getKey(), l);
                log(String.format(
                        Locale.ROOT,
                        "  without the filter indexes: %-30s SQL p50 %.1f ms, max %.1f ms (%d queries)",
                        kind.getKey(),
                        l.sqlMs(50),
                        l.sqlMs(100),
                        n));
            }
            explain(jdbc, rows + " rows, without the filter indexes", kinds, Pages::picked);
        } finally {
            jdbc.rollback();
            jdbc.setAutoCommit(true);
        }
        return out;
    }

    /**
     * V12 before and after on the same data: {@code queries} one-day ranges timed as the server runs them, then,
     * in a transaction that is rolled back (nothing else running), V12 undone — its index dropped, the index on
     * "timestamp" alone back — and the same ranges by EVENTS_PAGE, as before V12. The same transaction times
     * V12's index build on this table (the lock a migration on a table this size would hold).
     */
    BeforeAfter beforeV12(Connection jdbc, long rows, Function<Random, Query> kind) throws Exception {
        try (Statement st = jdbc.createStatement();
                ResultSet rs = st.executeQuery("SELECT to_regclass('events_timestamp_id_idx') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return null;
            }
        }
        List<Object[]> ranges = new ArrayList<>();
        for (int i = 0; i < queries; i++) {
            ranges.add(kind.apply(random).sql());
        }
        long[] after = new long[queries];
        long[] before = new long[queries];
        int ranged = 0;
        double build;
        try (Pages page = new Pages(jdbc)) {
            for (int i = 0; i < queries; i++) {
                after[i] = page.time(ranges.get(i));
                ranged += Pages.picked(ranges.get(i)).equals(Sql.EVENTS_PAGE_RANGE) ? 1 : 0;
            }
        }
        jdbc.setAutoCommit(false);
        try (Statement st = jdbc.createStatement();
                Pages page = new Pages(jdbc)) {
            long t0 = System.nanoTime();
            st.execute("CREATE INDEX events_timestamp_id_idx_build ON events (\"timestamp\", id)");
            build = (System.nanoTime() - t0) / 1e9;
            st.execute("DROP INDEX events_timestamp_id_idx_build, events_timestamp_id_idx");
            st.execute("CREATE INDEX events_timestamp_idx ON events (\"timestamp\")");
            for (int i = 0; i < queries; i++) {
                before[i] = page.time(Sql.EVENTS_PAGE, ranges.get(i));
            }
            explain(
                    jdbc,
                    rows + " rows, before V12",
                    Map.of("last 100 in a one-day range", kind),
                    args -> Sql.EVENTS_PAGE);
        } finally {
            jdbc.rollback();
            jdbc.setAutoCommit(true);
        }
        Arrays.sort(after);
        Arrays.sort(before);
        BeforeAfter r = new BeforeAfter(after, before, ranged, build);
        log(String.format(
                Locale.ROOT,
                "  one-day ranges, same %d: now (%d by EVENTS_PAGE_RANGE) p50/p99/max %s ms; before V12 %s ms;"
                        + " V12's index built in %.1f s",
                queries,
                ranged,
                BeforeAfter.cell(after),
                BeforeAfter.cell(before),
                build));
        return r;
    }

    /**
     * {@code EXPLAIN (ANALYZE, BUFFERS)} of the admin API's statement for one query of each kind, through a
     * prepared statement planned for its values, as the server's are (its pool prepares unnamed statements).
     */
    void explain(
            Connection jdbc,
            String label,
            Map<String, Function<Random, Query>> kinds,
            Function<Object[], String> statement)
            throws Exception {
        try (Statement st = jdbc.createStatement()) {
            st.execute("SET plan_cache_mode = force_custom_plan");
            for (var kind : kinds.entrySet()) {
                // the same values for every label of one size: before and after compare one query
                Query q = kind.getValue().apply(new Random(label.split(" ")[0].hashCode()));
                String sql = statement.apply(q.sql());
                st.execute("DEALLOCATE ALL");
                st.execute("PREPARE page(timestamptz, timestamptz, text, text, text, bigint, integer) AS " + sql);
                StringBuilder args = new StringBuilder();
                for (Object a : q.sql()) {
                    args.append(a == null ? "NULL" : "'" + a + "'").append(',');
                }
                args.append("101");
                for (int i = 0; i < 6; i++) {
                    st.execute("EXECUTE page(" + args + ")");
                }
                StringBuilder plan = new StringBuilder();
                try (ResultSet rs = st.executeQuery("EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(" + args + ")")) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                explains.add("#### " + label + ": " + kind.getKey() + " (" + q.http() + ", "
                        + (sql.equals(Sql.EVENTS_PAGE_RANGE) ? "EVENTS_PAGE_RANGE" : "EVENTS_PAGE") + ")\n\n```\n"
                        + plan + "```\n");
            }
            st.execute("DEALLOCATE ALL");
            st.execute("RESET plan_cache_mode");
        }
    }

    // ------------------------------------------------------------------ ingest

    /** A row of each round's figure, and a row of the median's ratio to the empty table's median. */
    void ingestRows(List<String> t, List<Step> steps, String measure, ToDoubleFunction<Rate> figure, String format) {
        double empty = median(steps.get(0).ingest(), figure);
        t.add(cells(measure, steps, s -> join(s.ingest(), figure, format)));
        t.add(cells(
                "… median of the rounds, ratio to the empty table's",
                steps,
                s -> String.format(Locale.ROOT, "%.2f", median(s.ingest(), figure) / empty)));
    }

    static double median(List<Rate> rates, ToDoubleFunction<Rate> figure) {
        double[] v = rates.stream().mapToDouble(figure).sorted().toArray();
        return v.length == 0
                ? Double.NaN
                : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    Rate ingestRate(List<IngestBenchmark.Agent> fleet, PostgresDatabase db, Elasticsearch es) throws Exception {
        log("ingest: " + ingestEvents + " events, closed loop");
        CpuClock.Reading start = clock.read();
        IngestBenchmark.Load load = load(fleet, ingestEvents);
        double seconds = awaitIndexed(db, es) - (load.start() / 1e9);
        CpuClock.Reading end = clock.read();
        double per100k = 100_000.0 / load.accepted();
        Rate rate = new Rate(
                load.accepted() / load.seconds(),
                load.accepted() / seconds,
                end.postgresSince(start) * per100k,
                end.jvmSince(start) * per100k);
        log(String.format(
                Locale.ROOT,
                "  acked %.0f events/s, committed + indexed %.0f events/s; %s",
                rate.acked(),
                rate.endToEnd(),
                end.since(start)));
        return rate;
    }

    /**
     * A closed-loop load, again when a batch failed: on a busy machine the agents' new TLS connections (their
     * keep-alive ones closed while the table was filled) can take longer than their connect timeout.
     */
    IngestBenchmark.Load load(List<IngestBenchmark.Agent> fleet, long events) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return ingest.load(fleet, events, Duration.ofMinutes(10), 0);
            } catch (IllegalStateException e) {
                IngestBenchmark.check(attempt < 3, "the load failed 3 times: " + e.getMessage());
                log("the load again: " + e.getMessage());
            }
        }
    }

    /** Waits for the outbox to empty, refreshes the index; answers the time (System.nanoTime() in seconds). */
    static double awaitIndexed(PostgresDatabase db, Elasticsearch es) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (!IngestBenchmark.outboxEmpty(db)) {
            IngestBenchmark.check(System.nanoTime() < deadline, "the outbox did not drain in 10 minutes");
            Thread.sleep(20);
        }
        IngestBenchmark.check(
                es.request("POST", "/" + IngestBenchmark.E2E_PREFIX + "-*/_refresh", null)
                        .ok(),
                "refresh failed");
        return System.nanoTime() / 1e9;
    }

    // ------------------------------------------------------------------ reindex

    static final Pattern GC_AFTER = Pattern.compile("->(\\d+)([KMG])\\(");

    /**
     * {@code dozor-server reindex --since <newest month>} in its own JVM (the CLI's defaults, no heap flag), into
     * its own index prefix; RSS from /proc every 250 ms, heap after each GC from {@code -Xlog:gc}.
     */
    Reindex reindex(Map<String, String> serverEnv, Elasticsearch es, Path dir, long rows) throws Exception {
        Path gcLog = dir.resolve("reindex-gc-" + rows + ".log");
        Path output = dir.resolve("reindex-" + rows + ".out");
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:gc:file=" + gcLog,
                "-Ddozor.log.dir=" + dir.resolve("logs"),
                "-cp",
                System.getProperty("java.class.path"),
                "io.dozor.server.Main",
                "reindex",
                "--since",
                NEWEST_MONTH.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().putAll(serverEnv);
        pb.environment().put("DOZOR_ELASTICSEARCH_INDEX_PREFIX", REINDEX_PREFIX);
        log("reindex --since " + NEWEST_MONTH + " (its own JVM, index prefix " + REINDEX_PREFIX + ")");
        long t0 = System.nanoTime();
        Process p = pb.start();
        List<Long> rss = new ArrayList<>();
        Path status = Path.of("/proc", Long.toString(p.pid()), "status");
        long stopAt = reindexSeconds > 0 ? t0 + reindexSeconds * 1_000_000_000L : Long.MAX_VALUE;
        boolean stopped = false;
        while (p.isAlive()) {
            if (System.nanoTime() > stopAt && !stopped) {
                p.destroy();
                stopped = true;
            }
            try {
                for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("VmRSS:")) {
                        rss.add(Long.parseLong(line.replaceAll("\\D", "")));
                    }
                }
            } catch (Exception gone) {
                // the process ended between the check and the read
            }
            Thread.sleep(250);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        String out = Files.readString(output);
        IngestBenchmark.check(stopped || p.exitValue() == 0, "reindex failed: " + out);
        es.request("POST", "/" + REINDEX_PREFIX + "-*/_refresh", null);
        long events = es.count(REINDEX_PREFIX + "-*");
        if (stopped) {
            log("  stopped after " + reindexSeconds + " s (REINDEX_SECONDS)");
        }
        List<Long> heap = new ArrayList<>();
        for (String line : Files.readAllLines(gcLog)) {
            Matcher g = GC_AFTER.matcher(line);
            if (g.find()) {
                long v = Long.parseLong(g.group(1));
                heap.add(
                        switch (g.group(2)) {
                            case "K" -> v;
                            case "M" -> v * 1024;
                            default -> v * 1024 * 1024;
                        });
            }
        }
        es.request("DELETE", "/" + REINDEX_PREFIX + "-*", null);
        Reindex r = new Reindex(
                events,
                seconds,
                rss.stream().mapToLong(Long::longValue).toArray(),
                heap.stream().mapToLong(Long::longValue).toArray(),
                rss.stream().mapToLong(Long::longValue).max().orElse(0),
                heap.stream().mapToLong(Long::longValue).max().orElse(0));
        log(String.format(
                Locale.ROOT,
                "  %d events in %.1f s (%.0f/s); RSS %s MB; heap after GC %s MB (%d GCs)",
                events,
                seconds,
                events / seconds,
                series(r.rssKb(), 10),
                series(r.heapAfterGcKb(), 10),
                r.heapAfterGcKb().length));
        return r;
    }

    /** Up to {@code points} evenly spaced samples, in MB. */
    static String series(long[] kb, int points) {
        if (kb.length == 0) {
            return "-";
        }
        List<String> s = new ArrayList<>();
        for (int i = 0; i < points; i++) {
            int at = (int) ((long) (kb.length - 1) * i / Math.max(1, points - 1));
            s.add(Long.toString(kb[at] / 1024));
            if (kb.length == 1) {
                break;
            }
        }
        return String.join(" ", s);
    }

    // ------------------------------------------------------------------ report

    void report(List<Step> steps) throws Exception {
        List<String> t = new ArrayList<>();
        t.add("Run " + LocalDateTime.now().withNano(0) + ", "
                + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + Runtime.version()
                + String.format(
                        Locale.ROOT,
                        "; %d hosts/agents, %d users, %d process names; %d queries"
                                + " of each kind; ingest %d events x %d rounds from %d agents x %d per batch.",
                        hosts,
                        users,
                        PROCESSES.length,
                        queries,
                        ingestEvents,
                        ingestRounds,
                        ingest.agents,
                        ingest.batch));
        t.add("");
        StringBuilder head = new StringBuilder("| measure |");
        StringBuilder rule = new StringBuilder("|---|");
        for (Step s : steps) {
            head.append(' ').append(s.rows()).append(" rows |");
            rule.append("---|");
        }
        t.add(head.toString());
        t.add(rule.toString());
        Step last = steps.get(steps.size() - 1);
        for (String kind : last.queries().keySet()) {
            t.add(cells("admin API " + kind + ": p50 / p99 / max (ms)", steps, s -> {
                Latencies l = s.queries().get(kind);
                return l == null ? "" : String.format(Locale.ROOT, "%.1f / %.1f / %.1f", l.ms(50), l.ms(99), l.ms(100));
            }));
            t.add(cells("… its SQL alone (JDBC): p50 / p99 (ms)", steps, s -> {
                Latencies l = s.queries().get(kind);
                return l == null ? "" : String.format(Locale.ROOT, "%.1f / %.1f", l.sqlMs(50), l.sqlMs(99));
            }));
            if (withoutIndexes.values().stream().anyMatch(m -> m.containsKey(kind))) {
                t.add(cells("… its SQL without the filter indexes: p50 / max (ms)", steps, s -> {
                    Latencies l =
                            withoutIndexes.getOrDefault(s.rows(), Map.of()).get(kind);
                    return l == null ? "" : String.format(Locale.ROOT, "%.1f / %.1f", l.sqlMs(50), l.sqlMs(100));
                }));
            }
            if (kind.equals("last 100 in a one-day range") && !beforeV12.isEmpty()) {
                t.add(cells(
                        "… same " + queries + " ranges through JDBC as the server runs them (how many by"
                                + " EVENTS_PAGE_RANGE): p50 / p99 / max (ms)",
                        steps,
                        s -> {
                            BeforeAfter b = beforeV12.get(s.rows());
                            return b == null ? "" : BeforeAfter.cell(b.after()) + " (" + b.ranged() + ")";
                        }));
                t.add(cells(
                        "… the same ranges before V12 (EVENTS_PAGE, index on \"timestamp\" alone): p50 / p99 / max (ms)",
                        steps,
                        s -> {
                            BeforeAfter b = beforeV12.get(s.rows());
                            return b == null ? "" : BeforeAfter.cell(b.before());
                        }));
                t.add(cells("V12's index (\"timestamp\", id) built on this table (s)", steps, s -> {
                    BeforeAfter b = beforeV12.get(s.rows());
                    return b == null ? "" : String.format(Locale.ROOT, "%.1f", b.buildSeconds());
                }));
            }
        }
        ingestRows(t, steps, "ingest acked (committed) rate, each round (events/s)", Rate::acked, "%.0f");
        ingestRows(t, steps, "ingest end to end (committed + indexed), each round (events/s)", Rate::endToEnd, "%.0f");
        ingestRows(t, steps, "PostgreSQL CPU per 100 000 ingested events, each round (s)", Rate::pgCpu, "%.1f");
        ingestRows(t, steps, "server JVM CPU per 100 000 ingested events, each round (s)", Rate::jvmCpu, "%.1f");
        t.add(cells(
                "reindex of the newest month: events / seconds"
                        + (reindexSeconds > 0 ? " (stopped after " + reindexSeconds + " s)" : ""),
                steps,
                s -> s.reindex() == null
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                "%d / %.1f",
                                s.reindex().events(),
                                s.reindex().seconds())));
        t.add(cells(
                "… RSS over the run (MB, 10 samples)",
                steps,
                s -> s.reindex() == null ? "" : series(s.reindex().rssKb(), 10)));
        t.add(cells(
                "… heap after GC over the run (MB, 10 samples)",
                steps,
                s -> s.reindex() == null ? "" : series(s.reindex().heapAfterGcKb(), 10)));
        t.add(cells(
                "… max RSS / max heap after GC (MB)",
                steps,
                s -> s.reindex() == null
                        ? ""
                        : (s.reindex().rssMaxKb() / 1024) + " / " + (s.reindex().heapMaxKb() / 1024)));
        t.add(cells("COPY to reach this size (s)", steps, s -> String.format(Locale.ROOT, "%.0f", s.copySeconds())));
        String text = String.join("\n", t) + "\n";
        System.out.println();
        System.out.println(text);
        Path file = outDir.resolve(
                "growth-" + LocalDateTime.now().withNano(0).toString().replace(':', '-') + ".md");
        Files.writeString(
                file,
                text + "\n### Plans\n\n" + String.join("\n", explains) + "\nLog:\n\n```\n" + String.join("\n", lines)
                        + "\n```\n");
        System.out.println("written to " + file);
    }

    static String join(List<Rate> rates, ToDoubleFunction<Rate> f, String format) {
        return String.join(
                ", ",
                rates.stream()
                        .map(r -> String.format(Locale.ROOT, format, f.applyAsDouble(r)))
                        .toList());
    }

    static String cells(String measure, List<Step> steps, Function<Step, String> f) {
        StringBuilder sb = new StringBuilder("| ").append(measure).append(" |");
        for (Step s : steps) {
            sb.append(' ').append(f.apply(s)).append(" |");
        }
        return sb.toString();
    }

    void log(String line) {
        lines.add(line);
        System.out.println("[growth] " + line);
    }
}
