package io.dozor.server.bench;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest5_client.Rest5ClientTransport;
import co.elastic.clients.transport.rest5_client.low_level.Rest5Client;
import io.dozor.server.BenchAccess;
import io.dozor.server.DozorServer;
import io.dozor.server.config.ConfigLoader;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.index.BenchDocuments;
import io.dozor.server.index.TemplateInstaller;
import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import io.dozor.server.ops.Meters;
import io.dozor.server.setup.IndexTemplate;
import io.dozor.server.store.Migrations;
import io.dozor.server.store.Postgres;
import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.postgresql.PGConnection;

/**
 * Ingest benchmark (BENCHMARKS.md, "Ingest"); run it with {@code server/bench/ingest.sh}. Not a test.
 *
 * <p>One run, on one machine with PostgreSQL and Elasticsearch beside the server:
 * <ol>
 *   <li>PostgreSQL ceiling: {@code COPY} of N events into the server's {@code events} table (JDBC CopyManager);</li>
 *   <li>Elasticsearch ceiling: raw {@code _bulk} of the same N events as the live pipeline's documents (same
 *       template, index and {@code _id}), a few concurrent bulk requests;</li>
 *   <li>end to end: the real server in this JVM (TLS, its Vert.x options), simulated agents posting batches
 *       over HTTPS in a closed loop for T seconds with tokens made as {@code token create} makes them;
 *       throughput = events committed in PostgreSQL and indexed in ES (outbox empty, then a refresh) divided
 *       by the time from the first send to the last indexed; ack latency of every batch;</li>
 *   <li>half load: the same agents paced (open loop, fixed schedule) at half the end-to-end rate; ack latency
 *       is measured from each batch's scheduled send time, so a late send counts against it.</li>
 * </ol>
 * Parameters are environment variables (see {@code server/bench/ingest.sh}).
 */
public final class IngestBenchmark {
    static final OffsetDateTime BASE = OffsetDateTime.parse("2026-11-01T00:00:00Z");
    static final String[] USERS = {
        "ivanov", "petrov", "sidorov", "smirnova", "kuznetsov", "popova", "vasiliev", "sokolova"
    };
    static final String[] PROCESSES = {"chrome.exe", "browser.exe", "Telegram.exe", "explorer.exe"};
    static final String SECRET = "bench-Vb7Nm2Qx9Lk4Wp8Rz3Ty6Hd1Gf5Js0Ca";
    static final String CEILING_PREFIX = "dozor-bench-ceiling";
    static final String E2E_PREFIX = "dozor-bench-e2e";
    static final String COPY_SQL = "COPY events (event_id, \"timestamp\", username, process_name, agent_id, pid, "
            + "executable, hostname) FROM STDIN WITH (FORMAT csv)";

    final int ceilingEvents = env("CEILING_EVENTS", 200_000);
    final int pgStreams = env("PG_STREAMS", 2);
    final int esBulk = env("ES_BULK", 1_000);
    final int esConcurrency = env("ES_CONCURRENCY", 2);
    final int agents = env("AGENTS", 8);
    final int batch = env("BATCH", 500);
    final int seconds = env("SECONDS", 30);
    final int httpInstances = env("HTTP_INSTANCES", 0);
    /** 2: after the end-to-end phase on one server, the same phase on two servers (same PG, same ES), agents split. */
    final int servers = env("SERVERS", 1);
    /**
     * Events sent (end to end) or indexed (ES ceiling, into an index deleted before timing) before each measured
     * phase: as many as it measures, since a node that has not indexed before costs ~40 % more CPU per document
     * (its JIT), which would lower the ceiling and flatter the ratio.
     */
    final int warmup = env("WARMUP", ceilingEvents);
    /** Where the processes run: null = wherever the OS puts them; see {@link Cpus}. */
    final Cpus cpus = Cpus.fromEnv();

    String placement = "no pinning (the OS schedules every process on every core)";
    CpuClock clock;
    /** CPU time of each party in the measured phases (see {@link CpuClock}). */
    final Map<String, String> phaseCpu = new LinkedHashMap<>();

    final Path outDir = Path.of(System.getenv().getOrDefault("OUT", "server/target/bench"));
    final List<String> lines = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            new IngestBenchmark().run();
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.exit(status); // HTTP client and pool threads are not daemons
    }

    static int env(String name, int dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : Integer.parseInt(v.strip());
    }

    void run() throws Exception {
        Files.createDirectories(outDir);
        Path dir = Files.createTempDirectory("dozor-bench-");
        log("starting Elasticsearch and a fresh PostgreSQL database");
        Elasticsearch es = Elasticsearch.shared(); // DOZOR_TEST_ES_URL: an external node
        clock = new CpuClock(es.process());
        try (PostgresDatabase db = PostgresDatabase.create()) {
            if (cpus != null) {
                placement = cpus.apply(es);
                log(placement);
            }
            migrate(db);
            List<StoredEvent> events = generate(ceilingEvents);

            double pgRate = pgCopyCeiling(db, events);
            db.execute("TRUNCATE events CASCADE");
            db.execute("VACUUM ANALYZE");
            double esRate = esBulkCeiling(es, events);
            es.request("DELETE", "/" + CEILING_PREFIX + "-*", null);
            es.request("DELETE", "/_index_template/" + CEILING_PREFIX, null);
            events = null;

            ServerConfig config = new ConfigLoader(serverEnv(db, es, dir)).load(Optional.empty());
            Vertx vertx = DozorServer.vertx(Meters.vertxOptions(), config);
            DozorServer server = DozorServer.start(vertx, config).await();
            try {
                awaitTemplate(es);
                URI uri = URI.create("https://127.0.0.1:" + server.port() + "/api/v1/events");
                List<Agent> fleet = new ArrayList<>();
                for (int i = 1; i <= agents; i++) {
                    String id = String.format(Locale.ROOT, "pc-%03d", i);
                    fleet.add(new Agent(id, BenchAccess.agentToken(config, id), uri, dir.resolve("tls/ca.pem")));
                }
                // a warm-up (JIT, connections, TLS sessions, the index), not counted
                log("warm-up: " + warmup + " events");
                Load warm = load(fleet, warmup, Duration.ofMinutes(10), 0);
                Drain warmDrain = drain(db, es, warm.accepted, warm.start);
                long base = warmDrain.total;

                // as many events as the ceilings, sent as fast as the agents are acknowledged; the time runs until
                // the last one is indexed, so an outbox backlog counts against the rate
                log("end to end: " + ceilingEvents + " events from " + agents + " agents x " + batch
                        + " per batch, closed loop");
                CpuClock.Reading e2eStart = clock.read();
                Load full = load(fleet, ceilingEvents, Duration.ofMinutes(10), 0);
                long backlog = db.count("outbox");
                Drain fullDrain = drain(db, es, base + full.accepted, full.start);
                phase("end to end", e2eStart);
                base = fullDrain.total;
                double e2eRate = full.accepted / fullDrain.seconds;

                double twoRate = Double.NaN;
                if (servers == 2) {
                    // scale-out: a second server on the same database and Elasticsearch, in this JVM on its own
                    // Vert.x (no metrics: one registry per process); agents alternate between the two, as a
                    // least-connections balancer would spread them
                    Vertx vertx2 = DozorServer.vertx(new VertxOptions(), config);
                    DozorServer server2 = DozorServer.start(vertx2, config).await();
                    try {
                        URI uri2 = URI.create("https://127.0.0.1:" + server2.port() + "/api/v1/events");
                        List<Agent> split = new ArrayList<>();
                        for (int i = 0; i < fleet.size(); i++) {
                            Agent a = fleet.get(i);
                            split.add(i % 2 == 0 ? a : new Agent(a.id, a.token, uri2, dir.resolve("tls/ca.pem")));
                        }
                        log("two instances: warm-up of the second, then " + ceilingEvents + " events end to end");
                        Load warm2 = load(split, warmup, Duration.ofMinutes(10), 0);
                        base = drain(db, es, base + warm2.accepted, warm2.start).total;
                        CpuClock.Reading twoStart = clock.read();
                        Load two = load(split, ceilingEvents, Duration.ofMinutes(10), 0);
                        Drain twoDrain = drain(db, es, base + two.accepted, two.start);
                        phase("two instances, end to end", twoStart);
                        base = twoDrain.total;
                        twoRate = two.accepted / twoDrain.seconds;
                        log(String.format(
                                Locale.ROOT,
                                "two instances: %.0f events/s end to end (one: %.0f; ratio %.2f)",
                                twoRate,
                                e2eRate,
                                twoRate / e2eRate));
                    } finally {
                        server2.close().await();
                        vertx2.close().await();
                    }
                }

                double half = e2eRate / 2;
                log(String.format(Locale.ROOT, "half load: %.0f events/s for %d s", half, seconds));
                Load paced = load(fleet, Long.MAX_VALUE, Duration.ofSeconds(seconds), half);
                Drain pacedDrain = drain(db, es, base + paced.accepted, paced.start);

                report(pgRate, esRate, full, backlog, fullDrain, e2eRate, twoRate, half, paced, pacedDrain);
            } finally {
                server.close().await();
                vertx.close().await();
            }
        } finally {
            if (cpus != null) {
                cpus.close();
            }
        }
    }

    // ------------------------------------------------------------------ ceilings

    void migrate(PostgresDatabase db) {
        Vertx vertx = Vertx.vertx();
        var pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
        try {
            Migrations.migrate(vertx, pool).await();
        } finally {
            pool.close().await();
            vertx.close().await();
        }
    }

    List<StoredEvent> generate(int n) {
        Random random = new Random(42);
        List<StoredEvent> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String agent = String.format(Locale.ROOT, "pc-%03d", 1 + i % agents);
            out.add(new StoredEvent(i + 1, agent, launch(random, i, agent)));
        }
        return out;
    }

    static LaunchEvent launch(Random random, long seq, String agent) {
        String process = PROCESSES[random.nextInt(PROCESSES.length)];
        return new LaunchEvent(
                new UUID(
                        random.nextLong() & ~0xF000L | 0x4000L,
                        random.nextLong() & 0x3FFFFFFFFFFFFFFFL | 0x8000000000000000L),
                BASE.plusNanos((seq % 2_000_000_000L) * 1_000_000L),
                USERS[random.nextInt(USERS.length)],
                process,
                1_000L + random.nextInt(60_000),
                "C:\\Program Files\\Apps\\" + process,
                agent.toUpperCase(Locale.ROOT));
    }

    double pgCopyCeiling(PostgresDatabase db, List<StoredEvent> events) throws Exception {
        PgConnectOptions o = PgConnectOptions.fromUri(db.url());
        String jdbc = "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase();
        Properties props = new Properties();
        props.setProperty("user", o.getUser());
        if (o.getPassword() != null && !o.getPassword().isEmpty()) {
            props.setProperty("password", o.getPassword());
        }
        byte[][] csv = new byte[pgStreams][];
        int per = (events.size() + pgStreams - 1) / pgStreams;
        for (int s = 0; s < pgStreams; s++) {
            StringBuilder sb = new StringBuilder(per * 160);
            for (StoredEvent e :
                    events.subList(Math.min(events.size(), s * per), Math.min(events.size(), (s + 1) * per))) {
                LaunchEvent l = e.launch();
                sb.append(l.eventId())
                        .append(',')
                        .append(l.timestamp())
                        .append(',')
                        .append(l.username())
                        .append(',')
                        .append(l.processName())
                        .append(',')
                        .append(e.agentId())
                        .append(',')
                        .append(l.pid())
                        .append(",\"")
                        .append(l.executable())
                        .append("\",")
                        .append(l.hostname())
                        .append('\n');
            }
            csv[s] = sb.toString().getBytes(StandardCharsets.UTF_8);
        }
        log("PostgreSQL ceiling: COPY " + events.size() + " events in " + pgStreams + " streams");
        List<Connection> connections = new ArrayList<>();
        for (int s = 0; s < pgStreams; s++) {
            connections.add(DriverManager.getConnection(jdbc, props));
        }
        AtomicLong copied = new AtomicLong();
        long t0 = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < pgStreams; s++) {
            Connection c = connections.get(s);
            byte[] data = csv[s];
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    copied.addAndGet(
                            c.unwrap(PGConnection.class).getCopyAPI().copyIn(COPY_SQL, new ByteArrayInputStream(data)));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        for (Connection c : connections) {
            c.close();
        }
        long rows = db.count("events");
        check(rows == events.size(), "COPY stored " + rows + " rows of " + events.size());
        double rate = events.size() / secs;
        log(String.format(Locale.ROOT, "  %d rows in %.2f s = %.0f events/s", rows, secs, rate));
        return rate;
    }

    double esBulkCeiling(Elasticsearch es, List<StoredEvent> events) throws Exception {
        Rest5Client rest = Rest5Client.builder(List.of(URI.create(es.url()))).build();
        try {
            var client = new ElasticsearchAsyncClient(new Rest5ClientTransport(rest, new JacksonJsonpMapper()));
            // as the server installs it (with the fallback types on an Elasticsearch without the ECS modules)
            log("  "
                    + TemplateInstaller.install(client, IndexTemplate.EVENTS, CEILING_PREFIX)
                            .get()
                            .describe());
            // the requests as the pipeline sends them: same documents, same answer filter
            var bulkClient = BenchDocuments.asThePipeline(client);
            if (warmup > 0) {
                // as the end-to-end phase meets a node that has indexed before: JIT, caches; an index of its own
                String warmPrefix = CEILING_PREFIX + "-warmup";
                log("Elasticsearch ceiling: warm-up of " + warmup + " documents");
                long failed =
                        bulkAll(bulkClient, requests(warmPrefix, events.subList(0, Math.min(warmup, events.size()))));
                check(failed == 0, "ES warm-up: " + failed + " item errors");
                es.request("DELETE", "/" + warmPrefix + "-*", null);
            }
            List<BulkRequest> requests = requests(CEILING_PREFIX, events);
            log("Elasticsearch ceiling: _bulk " + events.size() + " documents, " + esBulk + " per request, "
                    + esConcurrency + " concurrent");
            CpuClock.Reading start = clock.read();
            long t0 = System.nanoTime();
            long failed = bulkAll(bulkClient, requests);
            es.request("POST", "/" + CEILING_PREFIX + "-*/_refresh", null);
            double secs = (System.nanoTime() - t0) / 1e9;
            phase("Elasticsearch ceiling", start);
            long docs = es.count(CEILING_PREFIX + "-*");
            check(
                    failed == 0 && docs == events.size(),
                    "ES indexed " + docs + " of " + events.size() + " (" + failed + " item errors)");
            double rate = events.size() / secs;
            log(String.format(Locale.ROOT, "  %d documents in %.2f s = %.0f docs/s", docs, secs, rate));
            return rate;
        } finally {
            rest.close();
        }
    }

    List<BulkRequest> requests(String prefix, List<StoredEvent> events) {
        List<BulkRequest> requests = new ArrayList<>();
        for (int i = 0; i < events.size(); i += esBulk) {
            requests.add(BenchDocuments.bulk(prefix, events.subList(i, Math.min(events.size(), i + esBulk))));
        }
        return requests;
    }

    /** Sends the requests, {@code ES_CONCURRENCY} at a time; returns the number of items that failed. */
    long bulkAll(ElasticsearchAsyncClient bulkClient, List<BulkRequest> requests) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        AtomicLong failed = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < esConcurrency; c++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i; (i = next.getAndIncrement()) < requests.size(); ) {
                    try {
                        BulkResponse response = bulkClient.bulk(requests.get(i)).get();
                        if (response.errors()) {
                            failed.addAndGet(response.items().stream()
                                    .filter(item -> item.error() != null)
                                    .count());
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return failed.get();
    }

    // ------------------------------------------------------------------ end to end

    Map<String, String> serverEnv(PostgresDatabase db, Elasticsearch es, Path dir) {
        DevCertificates certs = DevCertificates.generate(dir.resolve("tls"));
        Map<String, String> env = new HashMap<>();
        env.put("DOZOR_HTTP_HOST", "127.0.0.1");
        env.put("DOZOR_HTTP_PORT", "0");
        env.put("DOZOR_OPS_PORT", "0");
        env.put("DOZOR_HTTP_INSTANCES", Integer.toString(httpInstances));
        env.put("DOZOR_HTTP_TLS_CERT", certs.serverCert().toString());
        env.put("DOZOR_HTTP_TLS_KEY", certs.serverKey().toString());
        env.put("DOZOR_AUTH_TOKEN_SECRET", SECRET);
        env.put("DOZOR_POSTGRES_URL", db.url());
        env.put("DOZOR_ELASTICSEARCH_URLS", es.url());
        env.put("DOZOR_ELASTICSEARCH_INDEX_PREFIX", E2E_PREFIX);
        env.put("DOZOR_LOG_DIR", dir.resolve("logs").toString());
        // Telegram configured with no chat: the ES sink is the only outbox sink (what this benchmark is about);
        // the Bot API is never called (no chats, no polling)
        env.put("DOZOR_TELEGRAM_BOT_TOKEN", "1:bench");
        env.put("DOZOR_TELEGRAM_API_URL", "http://127.0.0.1:9");
        env.put("DOZOR_TELEGRAM_BOT_POLLING", "false");
        // this benchmark measures throughput with agents in a closed loop: no per-agent rate limit (FairnessBenchmark
        // measures that limit)
        env.put("DOZOR_INGEST_RATE_PER_AGENT", "0");
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("DOZOR_") && !k.startsWith("DOZOR_TEST_") && !k.startsWith("DOZOR_ES_")) {
                env.put(k, v); // e.g. DOZOR_POSTGRES_POOL_SIZE, DOZOR_ELASTICSEARCH_* tuning
            }
        });
        return env;
    }

    void awaitTemplate(Elasticsearch es) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!es.request("GET", "/_index_template/" + E2E_PREFIX, null).ok()) {
            check(System.nanoTime() < deadline, "the server did not install its index template");
            Thread.sleep(100);
        }
    }

    /** One simulated agent: its own token and HTTPS connection, a sequence for unique events. */
    final class Agent {
        final String id;
        final String token;
        final URI uri;
        final HttpClient http;
        long seq;

        Agent(String id, String token, URI uri, Path ca) {
            this.id = id;
            this.token = token;
            this.uri = uri;
            this.http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .sslContext(DevCertificates.trusting(ca))
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
        }

        String body() {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            StringBuilder sb = new StringBuilder(batch * 230).append("{\"events\":[");
            for (int i = 0; i < batch; i++) {
                LaunchEvent l = launch(random, seq++, id);
                if (i > 0) {
                    sb.append(',');
                }
                sb.append("{\"event_id\":\"")
                        .append(l.eventId())
                        .append("\",\"timestamp\":\"")
                        .append(l.timestamp().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
                        .append("\",\"username\":\"")
                        .append(l.username())
                        .append("\",\"process_name\":\"")
                        .append(l.processName())
                        .append("\",\"pid\":")
                        .append(l.pid())
                        .append(",\"executable\":\"")
                        .append(l.executable().replace("\\", "\\\\"))
                        .append("\",\"hostname\":\"")
                        .append(l.hostname())
                        .append("\"}");
            }
            return sb.append("]}").toString();
        }

        /** Returns the accepted count, or -status on a refusal. */
        int post(String body) throws Exception {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(uri)
                            .timeout(Duration.ofSeconds(30))
                            .header("Content-Type", "application/json")
                            .header("Authorization", "Bearer " + token)
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return -r.statusCode();
            }
            return new JsonObject(r.body()).getInteger("accepted");
        }
    }

    record Load(long start, double seconds, long batches, long accepted, long refused, long[] latencies) {
        double percentileMs(double p) {
            if (latencies.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.ceil(p / 100.0 * latencies.length) - 1;
            return latencies[Math.max(0, Math.min(latencies.length - 1, i))] / 1e6;
        }
    }

    /**
     * Closed loop when {@code rate} is 0, otherwise each agent on a fixed schedule adding up to rate events/s;
     * stops after {@code events} (rounded up to whole batches) or {@code duration}.
     */
    Load load(List<Agent> fleet, long events, Duration duration, double rate) throws InterruptedException {
        AtomicLong batches = new AtomicLong(events == Long.MAX_VALUE ? Long.MAX_VALUE : (events + batch - 1) / batch);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long interval = rate > 0 ? (long) (1e9 * fleet.size() * batch / rate) : 0;
        AtomicLong accepted = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        List<long[]> perAgent = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int a = 0; a < fleet.size(); a++) {
            Agent agent = fleet.get(a);
            long first = start + interval * a / fleet.size();
            long[][] slot = new long[1][];
            perAgent.add(null);
            int index = a;
            threads.add(Thread.ofPlatform().name("agent-" + agent.id).start(() -> {
                long[] lat = new long[1024];
                int n = 0;
                try {
                    for (long k = 0; ; k++) {
                        String body = agent.body();
                        long scheduled = rate > 0 ? first + k * interval : System.nanoTime();
                        if (scheduled >= end || batches.decrementAndGet() < 0) {
                            break;
                        }
                        for (long wait; (wait = scheduled - System.nanoTime()) > 0; ) {
                            LockSupport.parkNanos(wait);
                        }
                        int result = agent.post(body);
                        long latency = System.nanoTime() - scheduled;
                        if (result < 0) {
                            refused.incrementAndGet();
                            continue;
                        }
                        accepted.addAndGet(result);
                        if (n == lat.length) {
                            lat = Arrays.copyOf(lat, n * 2);
                        }
                        lat[n++] = latency;
                    }
                } catch (Exception e) {
                    refused.incrementAndGet();
                    System.err.println(agent.id + ": " + e);
                }
                slot[0] = Arrays.copyOf(lat, n);
                synchronized (perAgent) {
                    perAgent.set(index, slot[0]);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        double secs = (System.nanoTime() - start) / 1e9;
        long[] all = perAgent.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        Load load = new Load(start, secs, all.length, accepted.get(), refused.get(), all);
        log(String.format(
                Locale.ROOT,
                "  sent %d batches, %d events accepted, %d refused in %.2f s (%.0f events/s acked);"
                        + " ack p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                load.batches,
                load.accepted,
                load.refused,
                secs,
                load.accepted / secs,
                load.percentileMs(50),
                load.percentileMs(99),
                load.percentileMs(100)));
        check(load.refused == 0, load.refused + " batches refused");
        return load;
    }

    record Drain(long total, double seconds, double lagSeconds) {}

    /**
     * Waits until PostgreSQL holds {@code total} events and the outbox is empty (every row deleted after ES
     * acknowledged it), then refreshes the index so they are searchable; checks ES holds {@code total}.
     */
    /**
     * Whether the outbox is empty, as cheaply as PostgreSQL can tell: {@code count(*)} every few milliseconds would be
     * a (parallel) scan of the whole backlog each time, CPU the benchmark would take from the pipeline it measures.
     */
    static boolean outboxEmpty(PostgresDatabase db) {
        return Boolean.TRUE.equals(db.query("SELECT NOT EXISTS (SELECT 1 FROM outbox) AS empty")
                .get(0)
                .get("empty"));
    }

    Drain drain(PostgresDatabase db, Elasticsearch es, long total, long start) throws InterruptedException {
        long loadEnd = System.nanoTime();
        long deadline = loadEnd + Duration.ofMinutes(10).toNanos();
        while (!outboxEmpty(db)) {
            check(System.nanoTime() < deadline, "the outbox did not drain in 10 minutes");
            Thread.sleep(50);
        }
        check(es.request("POST", "/" + E2E_PREFIX + "-*/_refresh", null).ok(), "refresh failed");
        long indexed = System.nanoTime();
        long committed = db.count("events");
        long docs = es.count(E2E_PREFIX + "-*");
        check(
                committed == total && docs == total,
                "expected " + total + " events, PostgreSQL has " + committed + ", Elasticsearch " + docs
                        + " (dead letters: " + db.count("dead_letters") + ")");
        Drain d = new Drain(total, (indexed - start) / 1e9, (indexed - loadEnd) / 1e9);
        log(String.format(
                Locale.ROOT,
                "  all %d committed and indexed %.2f s after the first send (%.2f s after the last ack)",
                total,
                d.seconds,
                d.lagSeconds));
        return d;
    }

    // ------------------------------------------------------------------ report

    void report(
            double pgRate,
            double esRate,
            Load full,
            long backlog,
            Drain fullDrain,
            double e2eRate,
            double twoRate,
            double half,
            Load paced,
            Drain pacedDrain)
            throws Exception {
        String cpu = CpuClock.cores() + " cores";
        List<String> t = new ArrayList<>();
        t.add("Run " + LocalDateTime.now().withNano(0) + ", " + cpu + ", Java " + Runtime.version() + "; "
                + String.format(
                        Locale.ROOT,
                        "ceilings on %d events (COPY in %d streams; _bulk %d per request, %d concurrent);"
                                + " end to end %d events from %d agents x %d events per batch; half load for %d s; http instances %s;"
                                + " warm-up %d events before the ES ceiling and before each end-to-end phase; %s.",
                        ceilingEvents,
                        pgStreams,
                        esBulk,
                        esConcurrency,
                        ceilingEvents,
                        agents,
                        batch,
                        seconds,
                        httpInstances == 0 ? "= cores" : httpInstances,
                        warmup,
                        placement));
        t.add("");
        t.add("| measure | value |");
        t.add("|---|---|");
        t.add(row("PostgreSQL ceiling: COPY into `events`", "%.0f events/s", pgRate));
        t.add(row("Elasticsearch ceiling: raw `_bulk`, same documents", "%.0f docs/s", esRate));
        t.add(row(
                "end to end, committed + indexed (closed loop, first send → last indexed)", "%.0f events/s", e2eRate));
        t.add(row("… ratio to the ES ceiling (target ≥ 0.9)", "%.2f", e2eRate / esRate));
        t.add(row("… ratio to the PostgreSQL ceiling", "%.2f", e2eRate / pgRate));
        t.add(row("acked (committed) rate while sending", "%.0f events/s", full.accepted / full.seconds));
        if (!Double.isNaN(twoRate)) {
            t.add(row("two server instances (same PG and ES, agents split): end to end", "%.0f events/s", twoRate));
            t.add(row("… ratio to one instance", "%.2f", twoRate / e2eRate));
            t.add(row("… ratio to the ES ceiling", "%.2f", twoRate / esRate));
        }
        t.add(row(
                "outbox backlog when the senders stopped / indexed after the last ack",
                "%d rows / %.2f s",
                backlog,
                fullDrain.lagSeconds));
        t.add(row(
                "ack latency at full load p50 / p99", "%.1f / %.1f ms", full.percentileMs(50), full.percentileMs(99)));
        t.add(row("half load: target / acked rate", "%.0f / %.0f events/s", half, paced.accepted / paced.seconds));
        t.add(row(
                "half load: ack latency p50 / p99 / max (target p99 ≤ 100 ms)",
                "%.1f / %.1f / %.1f ms",
                paced.percentileMs(50),
                paced.percentileMs(99),
                paced.percentileMs(100)));
        t.add(row("half load: indexed after the last ack", "%.2f s", pacedDrain.lagSeconds));
        phaseCpu.forEach((phase, spent) -> t.add(row("CPU in the phase: " + phase, "%s", spent)));
        String text = String.join("\n", t) + "\n";
        System.out.println();
        System.out.println(text);
        Path file = outDir.resolve(
                "ingest-" + LocalDateTime.now().withNano(0).toString().replace(':', '-') + ".md");
        Files.writeString(file, text + "\nLog:\n\n```\n" + String.join("\n", lines) + "\n```\n");
        System.out.println("written to " + file);
    }

    static String row(String measure, String format, Object... args) {
        return "| " + measure + " | " + String.format(Locale.ROOT, format, args) + " |";
    }

    void phase(String name, CpuClock.Reading start) {
        String spent = clock.read().since(start);
        phaseCpu.put(name, spent);
        log("  " + name + ": " + spent);
    }

    void log(String line) {
        lines.add(line);
        System.out.println("[bench] " + line);
    }

    static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException(message);
        }
    }
}
