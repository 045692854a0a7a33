package io.dozor.server.bench;

import io.dozor.server.BenchAccess;
import io.dozor.server.DozorServer;
import io.dozor.server.config.ConfigLoader;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.ops.Meters;
import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Fairness of the per-agent rate limit: one agent flooding at full speed must not raise another agent's ack p99 above 100 ms.
 * Run it with {@code server/bench/fairness.sh} (see BENCHMARKS.md). Not a test.
 *
 * <p>The real server in this JVM (TLS, PostgreSQL, Elasticsearch as in {@link IngestBenchmark}). A "quiet"
 * agent sends a batch of {@code QUIET_BATCH} events every {@code QUIET_INTERVAL_MS} on a fixed schedule, its
 * ack latency taken from each batch's scheduled time. Three phases of {@code SECONDS} each: the quiet agent
 * alone; with {@code FLOODERS} connections of one other agent (one token) posting batches of
 * {@code FLOOD_BATCH} in a closed loop, ignoring 429 and Retry-After, with the server's default per-agent
 * rate; the same flood with the rate limit off ({@code ingest.rate_per_agent: 0}), for comparison.
 */
public final class FairnessBenchmark {
    final int seconds = IngestBenchmark.env("SECONDS", 20);
    final int quietBatch = IngestBenchmark.env("QUIET_BATCH", 10);
    final int quietIntervalMs = IngestBenchmark.env("QUIET_INTERVAL_MS", 250);
    final int flooders = IngestBenchmark.env("FLOODERS", 4);
    final int floodBatch = IngestBenchmark.env("FLOOD_BATCH", 100);
    final Path outDir = Path.of(System.getenv().getOrDefault("OUT", "server/target/bench"));
    final List<String> lines = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            new FairnessBenchmark().run();
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    record Phase(
            String name,
            long[] quietLatencies,
            long quietRefused,
            long floodOk,
            long flood429,
            long floodOther,
            long floodEvents,
            double secs) {
        double p(double percentile) {
            if (quietLatencies.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.ceil(percentile / 100.0 * quietLatencies.length) - 1;
            return quietLatencies[Math.max(0, Math.min(quietLatencies.length - 1, i))] / 1e6;
        }
    }

    void run() throws Exception {
        Files.createDirectories(outDir);
        Path dir = Files.createTempDirectory("dozor-fairness-");
        log("starting Elasticsearch and a fresh PostgreSQL database");
        Elasticsearch es = Elasticsearch.shared();
        List<Phase> phases = new ArrayList<>();
        String defaults;
        try (PostgresDatabase db = PostgresDatabase.create()) {
            Map<String, String> env = new IngestBenchmark().serverEnv(db, es, dir);
            if (!System.getenv().containsKey("DOZOR_INGEST_RATE_PER_AGENT")) {
                env.remove("DOZOR_INGEST_RATE_PER_AGENT"); // IngestBenchmark turns it off; here the default is measured
            }
            ServerConfig limited = new ConfigLoader(env).load(Optional.empty());
            defaults = limited.ingest().ratePerAgent() + " events/s, burst "
                    + limited.ingest().burstPerAgent();
            phases.addAll(withServer(limited, dir, es, true));
            env.put("DOZOR_INGEST_RATE_PER_AGENT", "0");
            phases.addAll(withServer(new ConfigLoader(env).load(Optional.empty()), dir, es, false));
        }
        report(phases, defaults);
    }

    List<Phase> withServer(ServerConfig config, Path dir, Elasticsearch es, boolean alsoAlone) throws Exception {
        Vertx vertx = DozorServer.vertx(Meters.vertxOptions(), config);
        DozorServer server = DozorServer.start(vertx, config).await();
        try {
            URI uri = URI.create("https://127.0.0.1:" + server.port() + "/api/v1/events");
            Path ca = dir.resolve("tls/ca.pem");
            String quiet = BenchAccess.agentToken(config, "pc-quiet");
            String flood = BenchAccess.agentToken(config, "pc-flood");
            String limit = config.ingest().ratePerAgent() == 0 ? "rate limit off" : "default rate limit";
            List<Phase> out = new ArrayList<>();
            phase("warm-up", uri, ca, quiet, flood, 0, 5); // JIT, connections, the index; not reported
            if (alsoAlone) {
                out.add(phase("quiet agent alone", uri, ca, quiet, flood, 0, seconds));
            }
            out.add(phase(
                    "with " + flooders + " flooding connections, " + limit, uri, ca, quiet, flood, flooders, seconds));
            return out;
        } finally {
            server.close().await();
            vertx.close().await();
        }
    }

    static HttpClient client(Path ca) {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(DevCertificates.trusting(ca))
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    static String body(int n) {
        StringBuilder sb = new StringBuilder(n * 230).append("{\"events\":[");
        String now = OffsetDateTime.now(ZoneOffset.UTC).toString();
        ThreadLocalRandom random = ThreadLocalRandom.current(); // cheaper than UUID.randomUUID's SecureRandom
        for (int i = 0; i < n; i++) {
            UUID id = new UUID(
                    random.nextLong() & ~0xF000L | 0x4000L,
                    random.nextLong() & 0x3FFFFFFFFFFFFFFFL | 0x8000000000000000L);
            sb.append(i > 0 ? "," : "")
                    .append("{\"event_id\":\"")
                    .append(id)
                    .append("\",\"timestamp\":\"")
                    .append(now)
                    .append("\",\"username\":\"ivanov\",\"process_name\":\"chrome.exe\",\"pid\":4312,")
                    .append("\"executable\":\"C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe\",")
                    .append("\"hostname\":\"PC-01\"}");
        }
        return sb.append("]}").toString();
    }

    static HttpResponse<String> post(HttpClient http, URI uri, String token, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri)
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .header("Authorization", "Bearer " + token)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    Phase phase(String name, URI uri, Path ca, String quiet, String flood, int floods, int secs) throws Exception {
        log(name + ": " + secs + " s; load average before: " + loadAverage());
        long start = System.nanoTime();
        long end = start + Duration.ofSeconds(secs).toNanos();
        AtomicLong ok = new AtomicLong();
        AtomicLong tooMany = new AtomicLong();
        AtomicLong other = new AtomicLong();
        AtomicLong floodEvents = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int f = 0; f < floods; f++) {
            threads.add(Thread.ofPlatform().name("flood-" + f).start(() -> {
                HttpClient http = client(ca);
                while (System.nanoTime() < end) {
                    try {
                        HttpResponse<String> r = post(http, uri, flood, body(floodBatch));
                        if (r.statusCode() == 200) {
                            ok.incrementAndGet();
                            floodEvents.addAndGet(floodBatch);
                        } else if (r.statusCode() == 429) {
                            tooMany.incrementAndGet(); // and straight back: a flooder ignores Retry-After
                        } else {
                            other.incrementAndGet();
                        }
                    } catch (Exception e) {
                        other.incrementAndGet();
                    }
                }
            }));
        }
        long[] latencies = new long[(int) (secs * 1000L / quietIntervalMs) + 1];
        int n = 0;
        long refused = 0;
        HttpClient http = client(ca);
        long interval = Duration.ofMillis(quietIntervalMs).toNanos();
        for (long k = 0; ; k++) {
            long scheduled = start + k * interval;
            if (scheduled >= end || n == latencies.length) {
                break;
            }
            String body = body(quietBatch);
            for (long wait; (wait = scheduled - System.nanoTime()) > 0; ) {
                LockSupport.parkNanos(wait);
            }
            HttpResponse<String> r = post(http, uri, quiet, body);
            if (r.statusCode() != 200) {
                refused++;
                continue;
            }
            latencies[n++] = System.nanoTime() - scheduled;
        }
        for (Thread t : threads) {
            t.join();
        }
        double took = (System.nanoTime() - start) / 1e9;
        long[] sorted = Arrays.copyOf(latencies, n);
        Arrays.sort(sorted);
        Phase p = new Phase(name, sorted, refused, ok.get(), tooMany.get(), other.get(), floodEvents.get(), took);
        log(String.format(
                Locale.ROOT,
                "  quiet agent: %d batches acked, %d refused; ack p50 %.1f / p99 %.1f / max %.1f ms;"
                        + " flood: %d × 200 (%.0f events/s stored), %d × 429, %d other",
                sorted.length,
                refused,
                p.p(50),
                p.p(99),
                p.p(100),
                p.floodOk,
                p.floodEvents / took,
                p.flood429,
                p.floodOther));
        return p;
    }

    void report(List<Phase> phases, String defaults) throws Exception {
        List<String> t = new ArrayList<>();
        t.add("Run " + LocalDateTime.now().withNano(0) + ", "
                + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + Runtime.version()
                + String.format(
                        Locale.ROOT,
                        "; quiet agent: %d events every %d ms; flood: %d connections"
                                + " of one agent, batches of %d, closed loop ignoring Retry-After; %d s per phase; default limit %s.",
                        quietBatch,
                        quietIntervalMs,
                        flooders,
                        floodBatch,
                        seconds,
                        defaults));
        t.add("");
        t.add("Load average at the end (other work on the machine): " + loadAverage() + ".");
        t.add("");
        t.add("| phase | quiet agent ack p50 / p99 / max | quiet refused | flood 200 / 429 / other | flood stored |");
        t.add("|---|---|---|---|---|");
        for (Phase p : phases) {
            t.add(String.format(
                    Locale.ROOT,
                    "| %s | %.1f / **%.1f** / %.1f ms | %d | %d / %d / %d | %.0f events/s |",
                    p.name,
                    p.p(50),
                    p.p(99),
                    p.p(100),
                    p.quietRefused,
                    p.floodOk,
                    p.flood429,
                    p.floodOther,
                    p.floodEvents / p.secs));
        }
        String text = String.join("\n", t) + "\n";
        System.out.println();
        System.out.println(text);
        Path file = outDir.resolve(
                "fairness-" + LocalDateTime.now().withNano(0).toString().replace(':', '-') + ".md");
        Files.writeString(file, text + "\nLog:\n\n```\n" + String.join("\n", lines) + "\n```\n");
        System.out.println("written to " + file);
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "unknown";
        }
    }

    void log(String line) {
        lines.add(line);
        System.out.println("[bench] " + line);
    }
}
