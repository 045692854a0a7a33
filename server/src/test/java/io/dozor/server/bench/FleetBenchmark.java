package io.dozor.server.bench;

import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A fleet of simulated agents against one server process; run it with {@code server/bench/fleet.sh} (see
 * BENCHMARKS.md, "Fleet"). Not a test.
 *
 * <p>Each simulated agent behaves like the real one: it enrols with an enrollment token ({@code POST
 * /api/v1/enroll}) and then uses its own access token; it talks HTTPS/1.1 and keeps its connection open for
 * {@code KEEPALIVE_S} idle seconds (default: as the agent's JDK {@code HttpURLConnection} does, the {@code timeout} of
 * the server's last {@code Keep-Alive} header, else 120 s, what the agent sets for its JDK client; 0 keeps it until
 * the server closes it; 5 was the JDK's default the agent had before); one request at a time; a heartbeat every
 * {@code HEARTBEAT_S}, longer after a failure as the agent's {@code Heartbeat} (2× doubling to 10×, at most
 * 10 min, or a longer {@code Retry-After}); each launch is sent as soon as it happens (the agent's shipper wakes on a new event),
 * up to 500 per batch; 429 waits {@code Retry-After} (at least 1 s), other failures the agent's backoff (1 s
 * doubling to 60 s, ±20 % jitter). All agents run on a few Vert.x event loops in this JVM; their connections come
 * from {@code 127.1.x.y} addresses, {@code AGENTS_PER_ADDRESS} per address (offices behind NAT), so the server's
 * per-address connection cap is met as in a deployment.
 *
 * <p>Phases: connect (each agent's first heartbeat at a random time within {@code HEARTBEAT_S}, as PCs start at
 * different times, until every agent has had an answer); office ({@code OFFICE_S}, launches at {@code OFFICE_PER_HOUR} per agent per hour, Poisson); the
 * 9 o'clock burst (every agent {@code BURST_LAUNCHES} launches at random times within {@code BURST_S}); office
 * again until the burst's outbox rows are delivered; a restart of the server under the office load (SIGTERM, start
 * again), observed for {@code RESTART_OBSERVE_S}; then the agents stop launching, deliver what they hold, and the
 * benchmark compares what was acknowledged with PostgreSQL and Elasticsearch.
 */
public final class FleetBenchmark {
    static final String PREFIX = "dozor-bench-fleet";
    static final String[] USERS = {"ivanov", "petrov", "sidorov", "smirnova", "kuznetsov", "popova", "vasiliev"};
    static final String[] PROCESSES = {"chrome.exe", "WINWORD.EXE", "EXCEL.EXE", "Telegram.exe", "explorer.exe"};

    final int agents = IngestBenchmark.env("AGENTS", 10_000);
    final int officeSeconds = IngestBenchmark.env("OFFICE_S", 60);
    final int officePerHour = IngestBenchmark.env("OFFICE_PER_HOUR", 30);
    final int burstSeconds = IngestBenchmark.env("BURST_S", 60);
    final int burstLaunches = IngestBenchmark.env("BURST_LAUNCHES", 5);
    final int heartbeatSeconds = IngestBenchmark.env("HEARTBEAT_S", 60);
    /** -1: as the agent's JDK client does (the server's {@code Keep-Alive: timeout}, else 120 s); 0: until the server closes. */
    final int keepAliveSeconds = IngestBenchmark.env("KEEPALIVE_S", -1);

    final int generatorThreads = IngestBenchmark.env("GEN_THREADS", 2);
    final int perAddress = IngestBenchmark.env("AGENTS_PER_ADDRESS", 100);
    final int enrollConcurrency = IngestBenchmark.env("ENROLL_CONCURRENCY", 16);
    final int enrolling = Math.min(agents, IngestBenchmark.env("ENROLL", Integer.MAX_VALUE));
    final int restart = IngestBenchmark.env("RESTART", 1);
    final int restartObserveSeconds = IngestBenchmark.env("RESTART_OBSERVE_S", 90);
    final String tlsKey = System.getenv().getOrDefault("TLS_KEY", "rsa");
    final Path outDir = Path.of(System.getenv().getOrDefault("OUT", "server/target/bench"));
    final List<String> lines = new ArrayList<>();
    final List<String[]> rows = new ArrayList<>();

    // shared by the generator's event loops
    final Map<String, Recorder> latencies = new ConcurrentHashMap<>();
    final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    final LongAdder generated = new LongAdder();
    final LongAdder acked = new LongAdder();
    final LongAdder heartbeatsOk = new LongAdder();
    final LongAdder connects = new LongAdder();
    final AtomicLong lastOldAck = new AtomicLong();
    volatile String phase = "enroll";
    volatile double launchesPerSecondPerAgent;
    volatile long restartStopped = Long.MAX_VALUE; // nanoTime the server was stopped
    volatile long restartReady = Long.MAX_VALUE;
    volatile boolean launching = true;
    final List<Sim> fleet = new ArrayList<>();

    public static void main(String[] args) {
        int status = 0;
        try {
            new FleetBenchmark().run();
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    /** Latencies of one phase, in nanoseconds. */
    static final class Recorder {
        private long[] values = new long[1024];
        private int n;

        synchronized void add(long v) {
            if (n == values.length) {
                values = Arrays.copyOf(values, n * 2);
            }
            values[n++] = v;
        }

        synchronized long[] sorted() {
            long[] s = Arrays.copyOf(values, n);
            Arrays.sort(s);
            return s;
        }
    }

    static double p(long[] sorted, double percentile) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    void error(String kind) {
        errors.computeIfAbsent(phase + ": " + kind, k -> new LongAdder()).increment();
    }

    void run() throws Exception {
        Files.createDirectories(outDir);
        Path dir = Files.createTempDirectory("dozor-fleet-");
        log("starting Elasticsearch and a fresh PostgreSQL database; load average " + FairnessBenchmark.loadAverage());
        Elasticsearch es = Elasticsearch.shared();
        es.request("DELETE", "/" + PREFIX + "-*", null);
        try (PostgresDatabase db = PostgresDatabase.create()) {
            DevCertificates certs = DevCertificates.generate(
                    dir.resolve("tls"),
                    tlsKey.startsWith("ec") ? DevCertificates.KeyType.ECDSA_P256 : DevCertificates.KeyType.RSA_2048);
            Map<String, String> env = new IngestBenchmark().serverEnv(db, es, dir);
            env.put("DOZOR_HTTP_TLS_CERT", certs.serverCert().toString());
            env.put("DOZOR_HTTP_TLS_KEY", certs.serverKey().toString());
            env.put("DOZOR_ELASTICSEARCH_INDEX_PREFIX", PREFIX);
            if (!System.getenv().containsKey("DOZOR_INGEST_RATE_PER_AGENT")) {
                env.remove("DOZOR_INGEST_RATE_PER_AGENT"); // the server's default limit, as deployed
            }
            List<String> jvm = serverJavaOpts();
            try (ServerProcess server = new ServerProcess(env, dir.resolve("logs"), jvm)) {
                double startSecs = server.start();
                log(String.format(
                        Locale.ROOT,
                        "server pid %d ready in %.1f s (JVM options: %s; TLS key %s); RSS %d MB",
                        server.pid(),
                        startSecs,
                        String.join(" ", server.jvmFlags()),
                        tlsKey,
                        server.rssMb()[0]));
                // one use per PC, as a roll-out would have it: an enrolment whose answer was lost (503 after the
                // server's 5 s reply timeout, committed all the same) is retried with the same enrollment key and
                // spends no second use
                String enrollment = server.cli(
                        "enrollment",
                        "create",
                        "--name",
                        "fleet",
                        "--uses",
                        Integer.toString(enrolling),
                        "--expires",
                        "1d");
                Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(generatorThreads));
                try {
                    drive(vertx, server, db, es, certs, enrollment);
                } finally {
                    vertx.close().await();
                }
            }
        }
    }

    void drive(
            Vertx vertx,
            ServerProcess server,
            PostgresDatabase db,
            Elasticsearch es,
            DevCertificates certs,
            String enrollment)
            throws Exception {
        for (int i = 0; i < agents; i++) {
            fleet.add(new Sim(i));
        }
        AtomicInteger slice = new AtomicInteger();
        Map<Integer, Gen> gens = new ConcurrentHashMap<>();
        vertx.deployVerticle(
                        () -> {
                            int s = slice.getAndIncrement();
                            Gen g = new Gen(s, server.port, certs.caCert());
                            gens.put(s, g);
                            return g;
                        },
                        new DeploymentOptions().setInstances(generatorThreads))
                .await();

        // enrolment: the first ENROLL agents (default all), ENROLL_CONCURRENCY at a time in all; the others get a
        // token as `token create` makes it (the same row and JWT), written in one statement
        issueTokens(vertx, db, enrolling);
        long t0 = System.nanoTime();
        List<Future<Void>> enrolled = new ArrayList<>();
        for (Gen g : gens.values()) {
            enrolled.add(g.call(() -> g.enrollAll(enrollment)));
        }
        Future.all(enrolled).await();
        double enrollSecs = (System.nanoTime() - t0) / 1e9;
        long enrollFailed = fleet.stream().filter(s -> s.token == null).count();
        log(String.format(
                Locale.ROOT,
                "enrolled %d agents in %.1f s (%.1f/s), %d failed; %d more given tokens directly;"
                        + " server RSS %d MB",
                enrolling - enrollFailed,
                enrollSecs,
                enrolling / enrollSecs,
                enrollFailed,
                agents - enrolling,
                server.rssMb()[0]));
        row(
                "enrolment (`POST /api/v1/enroll`, " + enrollConcurrency
                        + " at a time, retried with the agent's backoff)",
                String.format(
                        Locale.ROOT,
                        "%d agents in %.1f s (%.1f/s), %d failed for good; refusals on the way: %s%s",
                        enrolling,
                        enrollSecs,
                        enrolling / enrollSecs,
                        enrollFailed,
                        errorsOf("enroll"),
                        enrolling == agents
                                ? ""
                                : "; the other " + (agents - enrolling) + " got tokens as `token create` makes them"));
        if (enrollFailed > 0) {
            throw new IllegalStateException(enrollFailed + " agents could not enrol: " + errors);
        }

        if (System.getenv().getOrDefault("ONLY_ENROLL", "").equals("1")) {
            report(List.of());
            return;
        }
        for (Gen g : gens.values()) {
            g.call(() -> {
                        g.startAgents();
                        return Future.succeededFuture();
                    })
                    .await();
        }
        // connect: the agents start (first heartbeat at a random time within HEARTBEAT_S, as PCs boot at different
        // times) and open their connections, no launches yet; over when every agent has had an answer
        phase = "connect";
        long connectStart = System.nanoTime();
        long connects0 = connects.sum();
        log("connect: until every agent has had an answer (at most " + (heartbeatSeconds + 120) + " s)");
        while (fleet.stream().anyMatch(s -> s.lastOk < connectStart)
                && System.nanoTime() - connectStart < (heartbeatSeconds + 120) * 1_000_000_000L) {
            Thread.sleep(500);
        }
        double connectSecs = (System.nanoTime() - connectStart) / 1e9;
        long connectedAll = fleet.stream().filter(s -> s.lastOk >= connectStart).count();
        Map<String, Long> connectErrors = errorsOf("connect");
        log(String.format(
                Locale.ROOT,
                "connect: %d of %d agents answered within %.1f s; %d new connections; errors %s",
                connectedAll,
                agents,
                connectSecs,
                connects.sum() - connects0,
                connectErrors));
        row(
                "connect: every agent's first heartbeat answered (first heartbeats spread over " + heartbeatSeconds
                        + " s)",
                String.format(
                        Locale.ROOT,
                        "%d of %d within %.1f s; %d new TLS connections; refusals and errors on the way: %s",
                        connectedAll,
                        agents,
                        connectSecs,
                        connects.sum() - connects0,
                        connectErrors));
        long logMark = server.logLines();
        double cpu0 = server.cpuSeconds();

        // office
        launchesPerSecondPerAgent = officePerHour / 3600.0;
        Window office = window(server, "office", officeSeconds, logMark);

        // burst: each agent BURST_LAUNCHES launches at random times within BURST_S, on top of the office rate
        phase = "burst";
        long burstStart = System.nanoTime();
        long burstGeneratedBefore = generated.sum();
        for (Gen g : gens.values()) {
            g.call(() -> {
                g.burst();
                return Future.succeededFuture();
            });
        }
        Window burst = window(server, "burst", burstSeconds, office.logMark);
        long burstEnd = System.nanoTime();
        phase = "after the burst";
        // the burst is over when every launch made until its end is acknowledged; then its outbox rows must go
        long generatedAtEnd = generated.sum();
        while (acked.sum() < generatedAtEnd && System.nanoTime() - burstEnd < 120e9) {
            Thread.sleep(50);
        }
        double ackedAfter = (System.nanoTime() - burstEnd) / 1e9;
        long maxId = ((Number) db.query("SELECT coalesce(max(id), 0) AS m FROM events")
                        .get(0)
                        .get("m"))
                .longValue();
        long drainedAt;
        while (true) {
            long left = ((Number) db.query("SELECT count(*) AS c FROM outbox WHERE event_pk <= $1", maxId)
                            .get(0)
                            .get("c"))
                    .longValue();
            if (left == 0) {
                drainedAt = System.nanoTime();
                break;
            }
            if (System.nanoTime() - burstEnd > 180e9) {
                log("the burst's outbox rows were not delivered in 180 s: " + left + " left");
                drainedAt = System.nanoTime();
                break;
            }
            Thread.sleep(200);
        }
        double drainSecs = (drainedAt - burstEnd) / 1e9;
        long unacked = Math.max(0, generatedAtEnd - acked.sum());
        log(String.format(
                Locale.ROOT,
                "burst: %d launches generated; %s %.1f s after its end; the outbox rows of what was"
                        + " stored delivered %.1f s after its end",
                generatedAtEnd - burstGeneratedBefore,
                unacked == 0 ? "all acknowledged" : unacked + " of the launches made until then still not acknowledged",
                ackedAfter,
                drainSecs));
        long[] rssAfterBurst = server.rssMb();
        double cpuBurst = server.cpuSeconds() - cpu0;

        row("ack latency outside the burst p50 / p99 / max (target p99 ≤ 100 ms)", office.latency);
        row("ack latency in the burst p50 / p99 / max (target p99 ≤ 500 ms)", burst.latency);
        row("launches acked: office / burst phase", office.acked + " / " + burst.acked);
        row(
                "requests per second (events + heartbeats): office / burst",
                String.format(Locale.ROOT, "%.0f / %.0f", office.requestsPerSecond, burst.requestsPerSecond));
        row("new TLS connections: office / burst", office.connects + " / " + burst.connects);
        row("errors other than 429: office / burst (target 0)", office.errors + " / " + burst.errors);
        row("429 answers: office / burst", office.tooMany + " / " + burst.tooMany);
        row(
                "every launch made until the burst's end acknowledged after its end",
                unacked == 0
                        ? String.format(Locale.ROOT, "%.1f s", ackedAfter)
                        : String.format(
                                Locale.ROOT, "no: %d still not acknowledged after %.0f s", unacked, ackedAfter));
        row(
                "outbox (the burst's rows) drained after the burst's end (target ≤ 30 s)",
                String.format(Locale.ROOT, "%.1f s", drainSecs));
        row(
                "server RSS at the end of office / burst / after the drain (peak) (target ≤ 1024 MB)",
                office.rss + " / " + burst.rss + " / " + rssAfterBurst[0] + " MB (" + rssAfterBurst[1] + ")");
        row(
                "server CPU from the start of office to the drain",
                String.format(
                        Locale.ROOT,
                        "%.0f s in %.0f s of wall time",
                        cpuBurst,
                        (drainedAt - burstStart) / 1e9 + officeSeconds));
        row("event loop: blocked-thread warnings office / burst", office.blocked + " / " + burst.blocked);
        row(
                "server log WARN / ERROR lines: office + burst",
                (office.warn + burst.warn) + " / " + (office.error + burst.error));

        if (restart > 0) {
            restartPhase(server);
        }

        // the end: no more launches; every agent delivers what it holds
        launching = false;
        phase = "final delivery";
        long stopAt = System.nanoTime();
        while (acked.sum() < generated.sum() && System.nanoTime() - stopAt < 120e9) {
            Thread.sleep(100);
        }
        long gen = generated.sum();
        long ack = acked.sum();
        while (((Number) db.query("SELECT count(*) AS c FROM outbox").get(0).get("c")).longValue() > 0
                && System.nanoTime() - stopAt < 240e9) {
            Thread.sleep(200);
        }
        long pg = db.count("events");
        long docs = es.count(PREFIX + "-*");
        long dead = db.count("dead_letters");
        long distinctPg = ((Number) db.query("SELECT count(DISTINCT event_id) AS c FROM events")
                        .get(0)
                        .get("c"))
                .longValue();
        log(String.format(
                Locale.ROOT,
                "end: generated %d, acknowledged %d; PostgreSQL %d rows (%d distinct event ids),"
                        + " Elasticsearch %d documents, dead letters %d",
                gen,
                ack,
                pg,
                distinctPg,
                docs,
                dead));
        row(
                "launches acknowledged / in PostgreSQL (distinct ids) / in Elasticsearch: nothing lost or doubled",
                ack + " / " + pg + " (" + distinctPg + ") / " + docs
                        + (pg == ack && docs == ack && distinctPg == pg ? " — **equal**" : " — **NOT equal**")
                        + (dead > 0 ? " (dead letters " + dead + ")" : ""));
        row("launches generated / still held by agents (in backoff) at the end", gen + " / " + (gen - ack));
        row("heartbeats answered 2xx", Long.toString(heartbeatsOk.sum()));
        List<String> warnings = server.warnings(logMark, 15);
        report(warnings);
    }

    void restartPhase(ServerProcess server) throws Exception {
        phase = "restart";
        long mark = server.logLines();
        long t0 = System.nanoTime();
        restartStopped = t0;
        double stopSecs = server.stop();
        double startSecs = server.start();
        restartReady = System.nanoTime();
        log(String.format(Locale.ROOT, "restart: stopped in %.1f s, ready again %.1f s later", stopSecs, startSecs));
        long newMark = mark; // the new process appends to the same log file
        long allBackAt = 0;
        long deadline = restartReady + (long) (restartObserveSeconds * 1e9);
        while (System.nanoTime() < deadline) {
            long back = fleet.stream().filter(s -> s.lastOk > restartStopped).count();
            if (back == agents && allBackAt == 0) {
                allBackAt = System.nanoTime();
            }
            Thread.sleep(200);
        }
        long backAtEnd = fleet.stream().filter(s -> s.lastOk > restartStopped).count();
        long oldPending =
                fleet.stream().mapToLong(s -> s.pendingOlderThan(restartReady)).sum();
        long[] counts = server.logCounts(newMark);
        Recorder r = latencies.get("restart");
        long[] lat = r == null ? new long[0] : r.sorted();
        double allBack = allBackAt == 0 ? Double.NaN : (allBackAt - restartReady) / 1e9;
        double oldAcked = lastOldAck.get() == 0 ? Double.NaN : (lastOldAck.get() - restartReady) / 1e9;
        log(String.format(
                Locale.ROOT,
                "restart: every agent delivered again %.1f s after the server was ready (%d of %d"
                        + " within %d s); launches held during the downtime all acked %.1f s after (%d still held); WARN %d,"
                        + " ERROR %d, blocked-thread %d log lines after the restart",
                allBack,
                backAtEnd,
                agents,
                restartObserveSeconds,
                oldAcked,
                oldPending,
                counts[0],
                counts[1],
                counts[2]));
        row(
                "restart: stop (SIGTERM) / start until ready",
                String.format(Locale.ROOT, "%.1f s / %.1f s", stopSecs, startSecs));
        row(
                "restart: every agent answered again (any 2xx, heartbeats included: an agent with nothing to send"
                        + " heartbeats next after twice its interval when one failed during the downtime)",
                String.format(
                        Locale.ROOT,
                        "%.1f s (%d of %d within %d s)",
                        allBack,
                        backAtEnd,
                        agents,
                        restartObserveSeconds));
        row(
                "restart: every agent holding launches delivered them all (the launches held during the downtime"
                        + " acked) after the server was ready (target ≤ 60 s)",
                String.format(Locale.ROOT, "%.1f s (%d still held at the end of the window)", oldAcked, oldPending));
        row(
                "restart: ack latency p50 / p99 / max in the window",
                String.format(Locale.ROOT, "%.1f / %.1f / %.1f ms", p(lat, 50), p(lat, 99), p(lat, 100)));
        row(
                "restart: server log lines after the restart WARN / ERROR / blocked-thread",
                counts[0] + " / " + counts[1] + " / " + counts[2]);
        row(
                "restart: errors seen by the agents (all kinds, incl. refused connections while down)",
                errorsOf("restart").toString());
        row("server RSS after the restart window", server.rssMb()[0] + " MB");
    }

    /** Agents from {@code from} on get a token as {@code token create} makes it: its row, and a JWT naming it. */
    void issueTokens(Vertx vertx, PostgresDatabase db, int from) {
        if (from >= agents) {
            return;
        }
        var signer = io.dozor.server.auth.AgentTokens.signer(vertx, List.of(IngestBenchmark.SECRET));
        StringBuilder sql =
                new StringBuilder("INSERT INTO agent_tokens (token_id, agent_id, kind, expires_at) VALUES ");
        for (int i = from; i < agents; i++) {
            Sim s = fleet.get(i);
            UUID id = UUID.randomUUID();
            s.token = io.dozor.server.auth.AgentTokens.create(
                    signer, s.hostname, id, io.dozor.server.auth.AgentTokens.Kind.AGENT, java.time.Duration.ofDays(1));
            sql.append(i > from ? "," : "")
                    .append("('")
                    .append(id)
                    .append("','")
                    .append(s.hostname)
                    .append("','agent',now() + interval '1 day')");
        }
        db.execute(sql.toString());
    }

    Map<String, Long> errorsOf(String ph) {
        Map<String, Long> out = new java.util.TreeMap<>();
        errors.forEach((k, v) -> {
            if (k.startsWith(ph + ": ")) {
                out.put(k.substring(ph.length() + 2), v.sum());
            }
        });
        return out;
    }

    record Window(
            String latency,
            long acked,
            double requestsPerSecond,
            long connects,
            long errors,
            long tooMany,
            long rss,
            long blocked,
            long warn,
            long error,
            long logMark) {}

    final LongAdder requests = new LongAdder();

    Window window(ServerProcess server, String name, int seconds, long logMark) throws InterruptedException {
        phase = name;
        long a0 = acked.sum();
        long r0 = requests.sum();
        long c0 = connects.sum();
        log(name + ": " + seconds + " s; load average " + FairnessBenchmark.loadAverage());
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long peakRss = 0;
        while (System.nanoTime() < end) {
            Thread.sleep(1000);
            peakRss = Math.max(peakRss, server.rssMb()[0]);
        }
        long[] lat = latencies.computeIfAbsent(name, k -> new Recorder()).sorted();
        Map<String, Long> errs = errorsOf(name);
        long tooMany = errs.entrySet().stream()
                .filter(e -> e.getKey().equals("429") || e.getKey().endsWith(" 429"))
                .mapToLong(Map.Entry::getValue)
                .sum();
        long other = errs.values().stream().mapToLong(Long::longValue).sum() - tooMany;
        long mark = server.logLines();
        long[] counts = server.logCounts(logMark);
        String latency = String.format(
                Locale.ROOT, "%.1f / **%.1f** / %.1f ms (%d batches)", p(lat, 50), p(lat, 99), p(lat, 100), lat.length);
        Window w = new Window(
                latency,
                acked.sum() - a0,
                (requests.sum() - r0) / (double) seconds,
                connects.sum() - c0,
                other,
                tooMany,
                peakRss,
                counts[2],
                counts[0],
                counts[1],
                mark);
        log(String.format(
                Locale.ROOT,
                "  %s: ack %s; acked %d; %.0f req/s; %d new connections; errors %s; RSS peak %d MB;"
                        + " log WARN %d ERROR %d blocked %d; load average %s",
                name,
                latency,
                w.acked,
                w.requestsPerSecond,
                w.connects,
                errs,
                peakRss,
                counts[0],
                counts[1],
                counts[2],
                FairnessBenchmark.loadAverage()));
        return w;
    }

    // ------------------------------------------------------------------ the simulated agents

    /** One event waiting in an agent's queue. */
    record Ev(UUID id, String json, long created) {}

    /** One agent's state; touched only on its generator's event loop (but for the counters read at the end). */
    final class Sim {
        final int n;
        final String hostname;
        /** Sent with every enrolment attempt, as the agent does. */
        final String enrollmentKey = io.dozor.server.auth.Secrets.generate();

        String token;
        HttpClientAgent client;
        HttpClientConnection connection;
        long lastUsed;
        /** How long the agent's JDK client keeps the idle connection: the last {@code Keep-Alive: timeout}, else 120 s. */
        long announcedKeepAliveNanos = 120_000_000_000L;

        boolean busy;
        boolean heartbeatDue;
        int heartbeatFailures;
        long retryAt;
        int attempts;
        volatile long lastOk;
        final ArrayDeque<Ev> pending = new ArrayDeque<>();
        volatile int pendingCount;
        Gen gen;

        Sim(int n) {
            this.n = n;
            this.hostname = String.format(Locale.ROOT, "PC-%05d", n);
        }

        long pendingOlderThan(long t) {
            return gen.callSync(
                    () -> pending.stream().filter(e -> e.created < t).count());
        }

        void launch() {
            if (!launching) {
                return;
            }
            ThreadLocalRandom r = ThreadLocalRandom.current();
            UUID id = new UUID(
                    r.nextLong() & ~0xF000L | 0x4000L, r.nextLong() & 0x3FFFFFFFFFFFFFFFL | 0x8000000000000000L);
            String process = PROCESSES[r.nextInt(PROCESSES.length)];
            String json = "{\"event_id\":\"" + id + "\",\"timestamp\":\""
                    + DateTimeFormatter.ISO_INSTANT.format(Instant.now()) + "\",\"username\":\""
                    + USERS[n % USERS.length] + "\",\"process_name\":\"" + process
                    + "\",\"pid\":" + (1000 + r.nextInt(60000)) + ",\"executable\":\"C:\\\\Program Files\\\\Apps\\\\"
                    + process
                    + "\",\"hostname\":\"" + hostname + "\"}";
            pending.add(new Ev(id, json, System.nanoTime()));
            pendingCount = pending.size();
            generated.increment();
            kick();
        }

        void kick() {
            if (busy || token == null) {
                return;
            }
            if (heartbeatDue) {
                heartbeatDue = false;
                heartbeat();
            } else if (!pending.isEmpty() && System.nanoTime() >= retryAt) {
                sendEvents();
            }
        }

        Future<HttpClientConnection> connection() {
            long now = System.nanoTime();
            long keepAlive = keepAliveSeconds < 0 ? announcedKeepAliveNanos : keepAliveSeconds * 1_000_000_000L;
            if (connection != null && (keepAliveSeconds == 0 || now - lastUsed <= keepAlive)) {
                return Future.succeededFuture(connection);
            }
            if (connection != null) {
                connection.close();
                connection = null;
            }
            connects.increment();
            return client.connect(new HttpConnectOptions()
                            .setHost("127.0.0.1")
                            .setPort(gen.port)
                            .setConnectTimeout(10_000))
                    .onSuccess(c -> {
                        connection = c;
                        c.closeHandler(v -> {
                            if (connection == c) {
                                connection = null;
                            }
                        });
                    });
        }

        record Answer(int status, String retryAfter, Buffer body) {}

        Future<Answer> post(String path, String authorization, String body) {
            requests.increment();
            return connection()
                    .compose(c -> c.request(new RequestOptions()
                                    .setMethod(HttpMethod.POST)
                                    .setURI(path)
                                    .setIdleTimeout(30_000)
                                    .putHeader("Content-Type", "application/json")
                                    .putHeader("Authorization", authorization))
                            .compose(req -> req.send(Buffer.buffer(body)))
                            .compose(resp -> {
                                announcedKeepAliveNanos = keepAliveTimeout(resp.getHeader("Keep-Alive"));
                                return resp.body()
                                        .map(b -> new Answer(resp.statusCode(), resp.getHeader("Retry-After"), b));
                            }))
                    .andThen(ar -> {
                        lastUsed = System.nanoTime();
                        if (ar.failed() && connection != null) {
                            connection.close();
                            connection = null;
                        }
                    });
        }

        /** What the agent's {@code HttpURLConnection} takes from a {@code Keep-Alive} header: its timeout, else 120 s. */
        static long keepAliveTimeout(String header) {
            if (header != null) {
                for (String part : header.split(",")) {
                    String p = part.trim();
                    if (p.startsWith("timeout=")) {
                        try {
                            return Long.parseLong(
                                            p.substring("timeout=".length()).trim())
                                    * 1_000_000_000L;
                        } catch (NumberFormatException e) {
                            break;
                        }
                    }
                }
            }
            return 120_000_000_000L;
        }

        /** Enrols; a failure is retried after the agent's backoff (its shipper's), up to 10 attempts. */
        Future<Void> enroll(String enrollment) {
            busy = true;
            return post(
                            "/api/v1/enroll",
                            "Bearer " + enrollment,
                            new JsonObject()
                                    .put("hostname", hostname)
                                    .put("os", "Windows 11 10.0")
                                    .put("enrollment_key", enrollmentKey)
                                    .encode())
                    .transform(ar -> {
                        busy = false;
                        if (ar.succeeded() && ar.result().status == 200) {
                            token = ar.result().body.toJsonObject().getString("access_token");
                            attempts = 0;
                            return Future.succeededFuture();
                        }
                        error("enroll " + (ar.succeeded() ? ar.result().status : kind(ar.cause())));
                        if (attempts >= 10 || ar.succeeded() && ar.result().status == 401) { // a refusal is final
                            return Future.succeededFuture();
                        }
                        Promise<Void> again = Promise.promise();
                        gen.getVertx()
                                .setTimer(backoff(), t -> enroll(enrollment).onComplete(again));
                        return again.future();
                    });
        }

        void heartbeat() {
            busy = true;
            long started = System.nanoTime();
            String body = "{\"version\":\"0.1.0\",\"hostname\":\"" + hostname + "\",\"spool_depth\":" + pending.size()
                    + ",\"dropped_events\":0,\"unpersisted_events\":0,\"spool_error\":null}";
            post("/api/v1/heartbeat", "Bearer " + token, body).onComplete(ar -> {
                busy = false;
                long wait;
                if (ar.succeeded() && ar.result().status / 100 == 2) {
                    heartbeatsOk.increment();
                    lastOk = System.nanoTime();
                    heartbeatFailures = 0;
                    wait = heartbeatSeconds * 1000L;
                } else {
                    error("heartbeat " + (ar.succeeded() ? ar.result().status : kind(ar.cause())));
                    wait = heartbeatBackoff(ar.succeeded() ? ar.result() : null);
                }
                scheduleHeartbeat(Math.max(1, wait - (System.nanoTime() - started) / 1_000_000));
                kick();
            });
        }

        /**
         * The agent's {@code Heartbeat} after a failure: 2× the interval doubling up to 10× (at most 10 min, never
         * below the interval), ±20 %, or a longer {@code Retry-After} (at most 10 min) on a 429 or 5xx.
         */
        long heartbeatBackoff(Answer answer) {
            long interval = heartbeatSeconds * 1000L;
            long max = Math.max(interval, Math.min(10 * interval, 600_000));
            long base = Math.min(max, Math.min(max, 2 * interval) << Math.min(heartbeatFailures, 30));
            heartbeatFailures++;
            long wait = Math.min(
                    max,
                    Math.round(base * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble())));
            if (answer != null && (answer.status == 429 || answer.status >= 500)) {
                try {
                    wait = Math.max(wait, Math.min(600, Long.parseLong(answer.retryAfter.trim())) * 1000);
                } catch (RuntimeException ignored) {
                    // none or a date: the backoff
                }
            }
            return Math.max(interval, wait);
        }

        void scheduleHeartbeat(long ms) {
            gen.getVertx().setTimer(ms, t -> {
                heartbeatDue = true;
                kick();
            });
        }

        void sendEvents() {
            busy = true;
            List<Ev> batch = new ArrayList<>();
            StringBuilder sb = new StringBuilder("{\"events\":[");
            for (Ev e : pending) {
                if (batch.size() == 500) {
                    break;
                }
                sb.append(batch.isEmpty() ? "" : ",").append(e.json);
                batch.add(e);
            }
            sb.append("]}");
            String ph = phase;
            long t0 = System.nanoTime();
            post("/api/v1/events", "Bearer " + token, sb.toString()).onComplete(ar -> {
                busy = false;
                long now = System.nanoTime();
                if (ar.succeeded() && ar.result().status == 200) {
                    latencies.computeIfAbsent(ph, k -> new Recorder()).add(now - t0);
                    for (int i = 0; i < batch.size(); i++) {
                        Ev e = pending.poll();
                        if (e.created < restartReady && now > restartReady) {
                            lastOldAck.accumulateAndGet(now, Math::max);
                        }
                    }
                    pendingCount = pending.size();
                    acked.add(batch.size());
                    attempts = 0;
                    lastOk = now;
                } else if (ar.succeeded() && ar.result().status == 429) {
                    error("429");
                    long wait = 1000;
                    try {
                        wait = Math.max(1000, Long.parseLong(ar.result().retryAfter) * 1000);
                    } catch (RuntimeException ignored) {
                        // no or a bad Retry-After: the first backoff step
                    }
                    later(wait);
                } else {
                    error("events " + (ar.succeeded() ? ar.result().status : kind(ar.cause())));
                    later(backoff());
                }
                kick();
            });
        }

        /** The agent's backoff: 1 s doubling to 60 s, ±20 %. */
        long backoff() {
            long base = Math.min(60_000, 1000L << Math.min(attempts, 30));
            attempts++;
            return Math.min(
                    60_000,
                    Math.round(base * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble())));
        }

        void later(long ms) {
            retryAt = System.nanoTime() + ms * 1_000_000L;
            gen.getVertx().setTimer(ms, t -> kick());
        }
    }

    static String kind(Throwable t) {
        String m = t.getMessage() == null ? "" : t.getMessage();
        if (m.contains("Connection refused")) {
            return "connection refused";
        }
        if (m.toLowerCase(Locale.ROOT).contains("closed")) {
            return "connection closed";
        }
        if (m.toLowerCase(Locale.ROOT).contains("timeout")
                || m.toLowerCase(Locale.ROOT).contains("timed out")) {
            return "timeout";
        }
        return t.getClass().getSimpleName();
    }

    /** One event loop's share of the fleet. */
    final class Gen extends AbstractVerticle {
        final int slice;
        final int port;
        final Path ca;
        final List<Sim> mine = new ArrayList<>();
        final Map<Integer, HttpClientAgent> clients = new HashMap<>();

        Gen(int slice, int port, Path ca) {
            this.slice = slice;
            this.port = port;
            this.ca = ca;
        }

        @Override
        public void start() {
            for (int i = slice; i < agents; i += generatorThreads) {
                Sim s = fleet.get(i);
                s.gen = this;
                int address = i / perAddress;
                s.client = clients.computeIfAbsent(
                        address,
                        a -> vertx.createHttpClient(new HttpClientOptions()
                                .setProtocolVersion(HttpVersion.HTTP_1_1)
                                .setSsl(true)
                                .setTrustOptions(new PemTrustOptions().addCertPath(ca.toString()))
                                .setLocalAddress("127.1." + (a / 250) + "." + (1 + a % 250))
                                .setKeepAlive(true)
                                .setPipelining(false)
                                // the agent's handshake ends at its read timeout (15 s heartbeat, 30 s events), not
                                // Vert.x's 10 s
                                .setSslHandshakeTimeout(30)
                                .setSslHandshakeTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS)));
                mine.add(s);
            }
        }

        <T> Future<T> call(java.util.function.Supplier<Future<T>> action) {
            Promise<T> p = Promise.promise();
            context.runOnContext(v -> action.get().onComplete(p));
            return p.future();
        }

        <T> T callSync(java.util.function.Supplier<T> action) {
            return call(() -> Future.succeededFuture(action.get())).await();
        }

        Future<Void> enrollAll(String enrollment) {
            int[] next = {0};
            Promise<Void> done = Promise.promise();
            int[] running = {0};
            Runnable[] step = new Runnable[1];
            List<Sim> enrolling = mine.stream().filter(s -> s.token == null).toList();
            step[0] = () -> {
                while (running[0] < Math.max(1, enrollConcurrency / generatorThreads) && next[0] < enrolling.size()) {
                    Sim s = enrolling.get(next[0]++);
                    running[0]++;
                    s.enroll(enrollment).onComplete(ar -> {
                        running[0]--;
                        step[0].run();
                    });
                }
                if (running[0] == 0 && next[0] == enrolling.size()) {
                    done.tryComplete();
                }
            };
            step[0].run();
            return done.future();
        }

        void startAgents() {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            for (Sim s : mine) {
                s.lastUsed = 0;
                // the first heartbeat at a random time within HEARTBEAT_S, as agents start at different times; each
                // heartbeat schedules the next (HEARTBEAT_S after its start, longer after a failure)
                s.scheduleHeartbeat(1 + r.nextLong(heartbeatSeconds * 1000L));
                scheduleOffice(s);
            }
        }

        /** The office rate: exponential gaps with the phase's mean (re-read at each launch). */
        void scheduleOffice(Sim s) {
            double rate = launchesPerSecondPerAgent;
            if (rate <= 0) {
                vertx.setTimer(1000, t -> scheduleOffice(s));
                return;
            }
            long gap = Math.max(
                    1, (long) (-Math.log(1 - ThreadLocalRandom.current().nextDouble()) / rate * 1000));
            vertx.setTimer(gap, t -> {
                s.launch();
                scheduleOffice(s);
            });
        }

        void burst() {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            for (Sim s : mine) {
                for (int k = 0; k < burstLaunches; k++) {
                    vertx.setTimer(1 + r.nextLong(burstSeconds * 1000L), t -> s.launch());
                }
            }
        }
    }

    // ------------------------------------------------------------------ report

    /** {@code SERVER_JAVA_OPTS}: the server's JVM flags after the launcher's. */
    static List<String> serverJavaOpts() {
        return Arrays.stream(
                        System.getenv().getOrDefault("SERVER_JAVA_OPTS", "").split("\\s+"))
                .filter(s -> !s.isBlank())
                .toList();
    }

    void row(String measure, String value) {
        rows.add(new String[] {measure, value});
    }

    void report(List<String> warnings) throws Exception {
        List<String> t = new ArrayList<>();
        t.add("Run " + LocalDateTime.now(ZoneOffset.UTC).withNano(0) + " UTC, "
                + Runtime.getRuntime().availableProcessors()
                + " cores, Java " + Runtime.version()
                + String.format(
                        Locale.ROOT,
                        "; %d agents (enrolled), heartbeat every"
                                + " %d s, keep-alive %s, office %d launches/agent/hour for %d s, burst %d launches/agent within %d s, TLS"
                                + " key %s, server JVM options: %s.",
                        agents,
                        heartbeatSeconds,
                        keepAliveSeconds < 0
                                ? "as the server announces (the JDK's rule; 120 s if not, as the agent sets it)"
                                : keepAliveSeconds == 0 ? "until the server closes" : keepAliveSeconds + " s idle",
                        officePerHour,
                        officeSeconds,
                        burstLaunches,
                        burstSeconds,
                        tlsKey,
                        String.join(" ", ServerProcess.jvmFlags(serverJavaOpts()))));
        t.add("");
        t.add("Load average at the end: " + FairnessBenchmark.loadAverage() + ".");
        t.add("");
        t.add("| measure | value |");
        t.add("|---|---|");
        for (String[] r : rows) {
            t.add("| " + r[0] + " | " + r[1] + " |");
        }
        t.add("");
        t.add("Errors by phase and kind: " + new java.util.TreeMap<>(errors).toString());
        t.add("");
        t.add("First WARN/ERROR lines of the server log from the office phase on:");
        warnings.forEach(w -> t.add("- " + w));
        String text = String.join("\n", t) + "\n";
        System.out.println();
        System.out.println(text);
        Path file = outDir.resolve(
                "fleet-" + LocalDateTime.now().withNano(0).toString().replace(':', '-') + ".md");
        Files.writeString(file, text + "\nLog:\n\n```\n" + String.join("\n", lines) + "\n```\n");
        System.out.println("written to " + file);
    }

    void log(String line) {
        lines.add(line);
        System.out.println(
                "[fleet " + LocalDateTime.now(ZoneOffset.UTC).toLocalTime().withNano(0) + "] " + line);
    }
}
