package io.dozor.server.bench;

import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.PostgresDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * What {@code CONNECTIONS} TLS handshakes cost the server (its own process, see {@link ServerProcess}) with an
 * RSA-2048 and with an ECDSA P-256 key, with and without session resumption; run it with
 * {@code server/bench/tls.sh}. Not a test.
 *
 * <p>Per key and round: {@code CONNECTIONS} connections opened by {@code CONCURRENCY} client threads (the JDK's
 * {@code SSLSocket}, as the agent's {@code HttpsURLConnection} uses), each from one of the {@code 127.1.x.y}
 * addresses (100 per address), handshaking and sending one {@code GET /healthz} over it, all held open until the
 * round ends. "Full": a new {@code SSLContext} per connection (no session to resume, as 10 000 agents reconnecting
 * for the first time). "Resumed": one {@code SSLContext} for all, primed by one connection (the agent keeps its
 * context for its life, so a reconnecting agent offers its TLS 1.3 ticket). Meanwhile a probe sends
 * {@code GET /healthz} every 100 ms on a connection of its own: its latency is what the handshakes do to the other
 * requests on the server's event loops.
 */
public final class TlsHandshakeBenchmark {
    final int connections = IngestBenchmark.env("CONNECTIONS", 10_000);
    final int concurrency = IngestBenchmark.env("CONCURRENCY", 32);
    final Path outDir = Path.of(System.getenv().getOrDefault("OUT", "server/target/bench"));
    final List<String> lines = new ArrayList<>();

    public static void main(String[] args) {
        int status = 0;
        try {
            new TlsHandshakeBenchmark().run();
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    record Round(
            String key,
            String mode,
            int ok,
            int failed,
            double seconds,
            double serverCpu,
            long[] handshakes,
            long[] probe,
            long blocked,
            long rssMb) {}

    void run() throws Exception {
        Files.createDirectories(outDir);
        Path dir = Files.createTempDirectory("dozor-tls-");
        Elasticsearch es = Elasticsearch.shared();
        List<Round> rounds = new ArrayList<>();
        try (PostgresDatabase db = PostgresDatabase.create()) {
            for (DevCertificates.KeyType type : DevCertificates.KeyType.values()) {
                DevCertificates certs = DevCertificates.generate(dir.resolve(type.name()), type);
                Map<String, String> env = new IngestBenchmark().serverEnv(db, es, dir);
                env.put("DOZOR_HTTP_TLS_CERT", certs.serverCert().toString());
                env.put("DOZOR_HTTP_TLS_KEY", certs.serverKey().toString());
                env.putIfAbsent("DOZOR_HTTP_MAX_CONNECTIONS", Integer.toString(connections + 1000));
                try (ServerProcess server = new ServerProcess(env, dir.resolve("logs-" + type.name()), List.of())) {
                    server.start();
                    log(type + ": server pid " + server.pid() + " ready; load average "
                            + FairnessBenchmark.loadAverage());
                    round(
                            server,
                            certs,
                            type.name(),
                            "warm-up",
                            Math.min(connections, 1000),
                            false); // JIT; not reported
                    rounds.add(round(server, certs, type.name(), "full handshakes", connections, false));
                    rounds.add(round(server, certs, type.name(), "resumed (one SSLContext)", connections, true));
                }
            }
        }
        report(rounds);
    }

    Round round(ServerProcess server, DevCertificates certs, String key, String mode, int n, boolean resume)
            throws Exception {
        SSLContext shared = DevCertificates.trusting(certs.caCert());
        if (resume) {
            try (Socket s = open(shared, server.port, 0)) {
                get(s); // reads the answer, and with it the server's session ticket
            }
        }
        long logMark = server.logLines();
        ConcurrentLinkedQueue<Socket> held = new ConcurrentLinkedQueue<>();
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        long[] times = new long[n];
        AtomicInteger timed = new AtomicInteger();
        // the probe: a request every 100 ms on its own kept connection
        AtomicLong stop = new AtomicLong();
        List<Long> probe = new ArrayList<>();
        Thread prober = Thread.ofPlatform().start(() -> {
            try (Socket s = open(shared, server.port, 9999)) {
                while (stop.get() == 0) {
                    long t0 = System.nanoTime();
                    get(s);
                    probe.add(System.nanoTime() - t0);
                    Thread.sleep(100);
                }
            } catch (Exception e) {
                log("probe failed: " + e);
            }
        });
        double cpu0 = server.cpuSeconds();
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
            futures.add(pool.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < n; ) {
                    long h0 = System.nanoTime();
                    try {
                        SSLContext context = resume ? shared : DevCertificates.trusting(certs.caCert());
                        Socket s = open(context, server.port, i);
                        get(s);
                        held.add(s);
                        times[timed.getAndIncrement()] = System.nanoTime() - h0;
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double cpu = server.cpuSeconds() - cpu0;
        long rss = server.rssMb()[0];
        stop.set(1);
        prober.join();
        pool.shutdown();
        for (Socket s : held) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        long[] sorted = Arrays.copyOf(times, timed.get());
        Arrays.sort(sorted);
        long[] probes = probe.stream().mapToLong(Long::longValue).sorted().toArray();
        long blocked = server.logCounts(logMark)[2];
        Round r = new Round(key, mode, sorted.length, failed.get(), secs, cpu, sorted, probes, blocked, rss);
        log(String.format(
                Locale.ROOT,
                "  %s, %s: %d connections in %.1f s (%.0f/s), %d failed; server CPU %.1f s"
                        + " (%.2f ms per connection); connect+handshake+GET p50 %.1f / p99 %.1f ms; probe p50 %.1f / p99 %.1f /"
                        + " max %.1f ms; blocked-thread warnings %d; server RSS %d MB",
                key,
                mode,
                r.ok,
                secs,
                n / secs,
                r.failed,
                cpu,
                cpu * 1000 / n,
                FleetBenchmark.p(sorted, 50),
                FleetBenchmark.p(sorted, 99),
                FleetBenchmark.p(probes, 50),
                FleetBenchmark.p(probes, 99),
                FleetBenchmark.p(probes, 100),
                blocked,
                rss));
        Thread.sleep(2000); // let the server close them
        return r;
    }

    static Socket open(SSLContext context, int port, int i) throws IOException {
        int address = i / 100;
        Socket plain = new Socket();
        plain.bind(new InetSocketAddress("127.1." + (address / 250) + "." + (1 + address % 250), 0));
        plain.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        plain.setSoTimeout(30_000);
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, "127.0.0.1", port, true);
        s.startHandshake();
        return s;
    }

    static final byte[] GET = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** One {@code GET /healthz}; reads the answer's head and its (Content-Length) body. */
    static void get(Socket s) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(GET);
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed");
            }
            head.append((char) c);
        }
        String h = head.toString().toLowerCase(Locale.ROOT);
        int at = h.indexOf("content-length:");
        int length = at < 0
                ? 0
                : Integer.parseInt(h.substring(at + 15, h.indexOf("\r\n", at)).strip());
        in.readNBytes(length);
    }

    void report(List<Round> rounds) throws Exception {
        List<String> t = new ArrayList<>();
        t.add("Run " + LocalDateTime.now(ZoneOffset.UTC).withNano(0) + " UTC, "
                + Runtime.getRuntime().availableProcessors()
                + " cores, Java " + Runtime.version() + "; " + connections + " connections per round, " + concurrency
                + " client threads; load average at the end " + FairnessBenchmark.loadAverage() + ".");
        t.add("");
        t.add(
                "| server key | round | connections (failed) | time to connect all | server CPU (per connection) |"
                        + " connect+handshake+GET p50 / p99 | probe on a kept connection p50 / p99 / max | blocked-thread warnings |");
        t.add("|---|---|---|---|---|---|---|---|");
        for (Round r : rounds) {
            t.add(String.format(
                    Locale.ROOT,
                    "| %s | %s | %d (%d) | %.1f s (%.0f/s) | %.1f s (%.2f ms) | %.1f / %.1f ms |"
                            + " %.1f / %.1f / %.1f ms | %d |",
                    r.key,
                    r.mode,
                    r.ok,
                    r.failed,
                    r.seconds,
                    r.ok / r.seconds,
                    r.serverCpu,
                    r.serverCpu * 1000 / Math.max(1, r.ok),
                    FleetBenchmark.p(r.handshakes, 50),
                    FleetBenchmark.p(r.handshakes, 99),
                    FleetBenchmark.p(r.probe, 50),
                    FleetBenchmark.p(r.probe, 99),
                    FleetBenchmark.p(r.probe, 100),
                    r.blocked));
        }
        String text = String.join("\n", t) + "\n";
        System.out.println();
        System.out.println(text);
        Path file = outDir.resolve(
                "tls-" + LocalDateTime.now().withNano(0).toString().replace(':', '-') + ".md");
        Files.writeString(file, text + "\nLog:\n\n```\n" + String.join("\n", lines) + "\n```\n");
        System.out.println("written to " + file);
    }

    void log(String line) {
        synchronized (lines) {
            lines.add(line);
        }
        System.out.println(
                "[tls " + LocalDateTime.now(ZoneOffset.UTC).toLocalTime().withNano(0) + "] " + line);
    }
}
