package io.dozor.server.config;

import io.dozor.server.rules.Filters;
import io.dozor.server.rules.QuietHours;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;

/**
 * The server's validated settings, read once at start (see {@link ConfigLoader}). Secrets are masked in
 * {@code toString()}, so a logged configuration never carries them.
 *
 * @param logLogstash host:port of a Logstash tcp json_lines input that also gets the JSON log lines
 */
public record ServerConfig(
        Http http,
        Auth auth,
        Postgres postgres,
        Elasticsearch elasticsearch,
        Telegram telegram,
        Ingest ingest,
        Path logDir,
        Optional<String> logLogstash,
        Retention retention,
        Ops ops) {

    /**
     * The operations listener (plain HTTP, no token): {@code /metrics}, {@code /readyz}, {@code /healthz}. Bound to
     * loopback by default, so only the host (or a Prometheus beside it) reaches it; {@code port = 0}: any free port.
     */
    public record Ops(String host, int port) {
        public static final int DEFAULT_PORT = 9464;
    }

    /**
     * Events (and their Elasticsearch documents) older than {@code days} go, a whole month at a time;
     * {@code days = 0} keeps everything. The job runs every {@code interval}.
     */
    public record Retention(int days, Duration interval) {
        public static final int MAX_DAYS = 36_500;

        public boolean keepsEverything() {
            return days == 0;
        }
    }

    /**
     * TLS is on unless {@code plain} was asked for explicitly; then cert and key are empty. The connection
     * bounds: a connection with no traffic for {@code idleTimeout} is closed, so is one that has not sent a
     * whole request head within {@code headerTimeout} of opening or within {@code idleTimeout} of its previous
     * answer (announced to clients as {@code Keep-Alive}), or a whole body within {@code bodyTimeout} of its head; at most {@code maxConnections} are open (all instances
     * together), {@code maxConnectionsPerAddress} from one remote address. TLS handshakes run on {@code
     * tlsHandshakeThreads} threads of their own ({@link #handshakeThreads()}), not on the event loops, with at most
     * {@code tlsHandshakeQueue} handshake steps waiting (one more closes its connection at once).
     */
    public record Http(
            String host,
            int port,
            Optional<Path> tlsCert,
            Optional<Path> tlsKey,
            boolean plain,
            long maxBodyBytes,
            int instances,
            int tlsHandshakeThreads,
            int tlsHandshakeQueue,
            Duration idleTimeout,
            Duration headerTimeout,
            Duration bodyTimeout,
            int maxConnections,
            int maxConnectionsPerAddress) {

        /** The threads for TLS handshakes: as set, or one per CPU core for 0. */
        public int handshakeThreads() {
            return tlsHandshakeThreads > 0
                    ? tlsHandshakeThreads
                    : Runtime.getRuntime().availableProcessors();
        }
    }

    /**
     * What ingest accepts: event times from 2000-01-01T00:00:00Z to now + {@code maxFutureSkew}; per agent a
     * token bucket of {@code burstPerAgent} events refilled at {@code ratePerAgent} events/s (0: no limit); at most {@code maxInFlight} agent requests served at once
     * by the process (0: no bound).
     */
    public record Ingest(Duration maxFutureSkew, int ratePerAgent, int burstPerAgent, int maxInFlight) {}

    /**
     * Token keys and lifetimes. {@code tokenSecrets}: the first signs, all verify (rotation). Agents get access
     * tokens of {@code accessTokenTtl}, renewed with a refresh credential that lapses after {@code refreshTokenTtl}
     * without use; {@code tokenTtl} is the default lifetime of {@code token create}'s tokens; a token found
     * registered is trusted without asking PostgreSQL again for at most {@code tokenCacheTtl} (0: always asked).
     */
    public record Auth(
            List<String> tokenSecrets,
            Duration accessTokenTtl,
            Duration refreshTokenTtl,
            Duration tokenTtl,
            Duration tokenCacheTtl) {
        @Override
        public String toString() {
            return "Auth[tokenSecrets=****, accessTokenTtl=" + accessTokenTtl + ", refreshTokenTtl=" + refreshTokenTtl
                    + ", tokenTtl=" + tokenTtl + ", tokenCacheTtl=" + tokenCacheTtl + "]";
        }
    }

    public record Postgres(String url, int poolSize) {
        /** The URL without its password, for messages. */
        public static String redact(String url) {
            return url.replaceAll("://([^:@/]+):[^@/]*@", "://$1:***@");
        }

        @Override
        public String toString() {
            return "Postgres[url=" + redact(url) + ", poolSize=" + poolSize + "]";
        }
    }

    /** {@code bulkSize} documents per bulk request, at most {@code bulkConcurrency} requests in flight. */
    public record Elasticsearch(List<URI> urls, String indexPrefix, int bulkSize, int bulkConcurrency) {
        public Elasticsearch(List<URI> urls, String indexPrefix) {
            this(urls, indexPrefix, 1_000, 2);
        }
    }

    /**
     * No bot token: notifications are written to the log in the exact message text. {@code filters} as read
     * at start; {@code filtersFile} (the YAML file, if any) is watched for new ones.
     */
    public record Telegram(
            URI apiUrl,
            Optional<String> botToken,
            List<Long> chatIds,
            ZoneId timeZone,
            String template,
            int thresholdCount,
            Duration thresholdWindow,
            Duration cooldown,
            QuietHours quietHours,
            boolean quietDrop,
            int digestAfter,
            Duration muteDefault,
            List<Long> adminUserIds,
            boolean botPolling,
            Duration silentAgentAfter,
            Filters filters,
            Optional<Path> filtersFile) {
        /** What "recently heard from" means (/status, dozor_agents_active): silent_agent_after, or 15 min when off. */
        public Duration activeWithin() {
            return silentAgentAfter.isZero() ? Duration.ofMinutes(15) : silentAgentAfter;
        }

        @Override
        public String toString() {
            return "Telegram[apiUrl=" + apiUrl + ", botToken=" + botToken.map(t -> "****") + ", chatIds=" + chatIds
                    + ", timeZone=" + timeZone + ", template=" + template + ", filters=" + filters + "]";
        }
    }
}
