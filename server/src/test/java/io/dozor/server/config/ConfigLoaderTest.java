package io.dozor.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    static final String SECRET = "cfg-Qm4Rt8Wz2Xk7Lp3Nv9Hb6Yd1Sj5Gc0Fa";

    @TempDir
    Path dir;

    Map<String, String> env;

    @BeforeEach
    void minimalEnvironment() {
        env = new HashMap<>(Map.of(
                "DOZOR_HTTP_PLAIN", "true",
                "DOZOR_AUTH_TOKEN_SECRET", SECRET,
                "DOZOR_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/dozor",
                "DOZOR_ELASTICSEARCH_URLS", "http://127.0.0.1:9200"));
    }

    ServerConfig load() {
        return new ConfigLoader(env).load(Optional.empty());
    }

    ServerConfig load(String yaml) throws IOException {
        Path file = dir.resolve("server.yaml");
        Files.writeString(file, yaml);
        return new ConfigLoader(env).load(Optional.of(file));
    }

    void assertRefused(String message) {
        assertThatThrownBy(this::load).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void defaultsApplyWhenOnlyRequiredSettingsAreGiven() {
        ServerConfig c = load();
        assertThat(c.http().port()).isEqualTo(8443);
        assertThat(c.elasticsearch().indexPrefix()).isEqualTo("dozor-events");
        assertThat(c.telegram().apiUrl()).isEqualTo(URI.create("https://api.telegram.org"));
        assertThat(c.telegram().botToken()).isEmpty();
        assertThat(c.telegram().timeZone()).isEqualTo(ZoneId.systemDefault());
        assertThat(c.telegram().template()).isEqualTo("[{time}] Пользователь {user} запустил {process}");
        assertThat(c.logDir()).isEqualTo(Path.of("logs"));
    }

    @Test
    void yamlIsReadAndEnvironmentOverridesIt() throws IOException {
        env.remove("DOZOR_ELASTICSEARCH_URLS");
        env.put("DOZOR_TELEGRAM_TIME_ZONE", "Asia/Yekaterinburg");
        ServerConfig c = load("""
        http:
          port: 9443
        elasticsearch:
          urls: [http://es1:9200, "http://es2:9200/"]
          index_prefix: launches
        telegram:
          bot_token: "123:abc"
          chat_ids: [-100123, 42]
          time_zone: Europe/Moscow
        """);
        assertThat(c.http().port()).isEqualTo(9443);
        assertThat(c.elasticsearch().urls())
                .containsExactly(URI.create("http://es1:9200"), URI.create("http://es2:9200"));
        assertThat(c.elasticsearch().indexPrefix()).isEqualTo("launches");
        assertThat(c.telegram().botToken()).contains("123:abc");
        assertThat(c.telegram().chatIds()).containsExactly(-100123L, 42L);
        assertThat(c.telegram().timeZone()).isEqualTo(ZoneId.of("Asia/Yekaterinburg"));
    }

    @Test
    void nestedTlsKeysMapToTheirEnvironmentNames() throws IOException {
        Path cert = Files.writeString(dir.resolve("c.pem"), "x");
        Path key = Files.writeString(dir.resolve("k.pem"), "x");
        env.remove("DOZOR_HTTP_PLAIN");
        env.put("DOZOR_HTTP_TLS_CERT", cert.toString());
        ServerConfig c = load("http:\n  tls:\n    key: " + key + "\n");
        assertThat(c.http().plain()).isFalse();
        assertThat(c.http().tlsCert()).contains(cert);
        assertThat(c.http().tlsKey()).contains(key);
    }

    @Test
    void tlsIsRequiredUnlessPlainHttpIsAskedFor() {
        env.remove("DOZOR_HTTP_PLAIN");
        assertRefused(
                "http.tls.cert (DOZOR_HTTP_TLS_CERT): missing (TLS is required; set DOZOR_HTTP_PLAIN=true to serve plain HTTP)");
    }

    @Test
    void commandsThatDoNotServeNeedNoTls() {
        env.remove("DOZOR_HTTP_PLAIN");
        ServerConfig c = new ConfigLoader(env).loadForTools(Optional.empty());
        assertThat(c.http().tlsCert()).isEmpty();
        assertThat(c.postgres().url()).isEqualTo("postgresql://postgres@127.0.0.1:5432/dozor");
    }

    @Test
    void unreadableCertificateIsNamed() {
        env.remove("DOZOR_HTTP_PLAIN");
        env.put("DOZOR_HTTP_TLS_CERT", dir.resolve("absent.pem").toString());
        assertRefused("http.tls.cert (DOZOR_HTTP_TLS_CERT): cannot read file " + dir.resolve("absent.pem"));
    }

    @Test
    void missingRequiredSettingsAreNamed() {
        for (String name : List.of("DOZOR_POSTGRES_URL", "DOZOR_ELASTICSEARCH_URLS", "DOZOR_AUTH_TOKEN_SECRET")) {
            minimalEnvironment();
            env.remove(name);
            assertThatThrownBy(this::load)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("(" + name + "): missing");
        }
    }

    @Test
    void badValuesAreNamedWithWhatWasWrong() {
        Map<String, String> cases = Map.of(
                "DOZOR_HTTP_PORT",
                "http.port (DOZOR_HTTP_PORT): must be a whole number, got \"https\"",
                "DOZOR_HTTP_PLAIN",
                "http.plain (DOZOR_HTTP_PLAIN): must be true or false, got \"https\"",
                "DOZOR_POSTGRES_URL",
                "postgres.url (DOZOR_POSTGRES_URL): not a postgresql://user@host:port/db URL",
                "DOZOR_ELASTICSEARCH_URLS",
                "elasticsearch.urls (DOZOR_ELASTICSEARCH_URLS): must be an http(s) URL, got \"https\"",
                "DOZOR_TELEGRAM_CHAT_IDS",
                "telegram.chat_ids (DOZOR_TELEGRAM_CHAT_IDS): chat ids are integers, got \"https\"",
                "DOZOR_TELEGRAM_TIME_ZONE",
                "telegram.time_zone (DOZOR_TELEGRAM_TIME_ZONE): unknown time zone \"https\"",
                "DOZOR_ELASTICSEARCH_INDEX_PREFIX",
                "elasticsearch.index_prefix (DOZOR_ELASTICSEARCH_INDEX_PREFIX): must be a lowercase index name (a-z, 0-9, '.', '_', '-'), got \"https\""
                        .replace("\"https\"", "\"HTTPS\""));
        cases.forEach((name, message) -> {
            minimalEnvironment();
            env.put(name, name.endsWith("PREFIX") ? "HTTPS" : "https");
            assertRefused(message);
        });
    }

    @Test
    void adminUserIdsArePeople() {
        env.put("DOZOR_TELEGRAM_ADMIN_USER_IDS", "42, 7");
        assertThat(load().telegram().adminUserIds()).containsExactly(42L, 7L);
        for (String id : List.of("0", "-1001234567890", "777000", "1087968824")) {
            env.put("DOZOR_TELEGRAM_ADMIN_USER_IDS", "42," + id);
            assertRefused("telegram.admin_user_ids (DOZOR_TELEGRAM_ADMIN_USER_IDS): " + Long.parseLong(id)
                    + " is not a person's user id (user ids are positive; 777000 and 1087968824 are Telegram's service account"
                    + " and anonymous admins' bot)");
        }
    }

    @Test
    void outOfRangePortAndShortSecretAreRefused() {
        env.put("DOZOR_HTTP_PORT", "70000");
        assertRefused("http.port (DOZOR_HTTP_PORT): must be a port number 0-65535, got 70000");
        minimalEnvironment();
        env.put("DOZOR_AUTH_TOKEN_SECRET", "short");
        assertRefused("auth.token_secret (DOZOR_AUTH_TOKEN_SECRET): too short (5 characters; at least 32)");
    }

    @Test
    void opsListenerDefaultsToLoopbackAndNeedsAPortOfItsOwn() throws IOException {
        assertThat(load().ops()).isEqualTo(new ServerConfig.Ops("127.0.0.1", 9464));
        assertThat(load("ops:\n  host: 0.0.0.0\n  port: 9100\n").ops())
                .isEqualTo(new ServerConfig.Ops("0.0.0.0", 9100));
        env.put("DOZOR_OPS_PORT", "8443");
        assertRefused("ops.port (DOZOR_OPS_PORT): must differ from http.port (8443)");
        env.put("DOZOR_OPS_PORT", "metrics");
        assertRefused("ops.port (DOZOR_OPS_PORT): must be a whole number, got \"metrics\"");
        env.put("DOZOR_OPS_PORT", "-1");
        assertRefused("ops.port (DOZOR_OPS_PORT): must be a port number 0-65535, got -1");
        env.put("DOZOR_OPS_PORT", "0");
        env.put("DOZOR_HTTP_PORT", "0");
        assertThat(load().ops().port()).as("0 for both: two free ports").isZero();
        env.put("DOZOR_OPS_HOST", " ");
        assertRefused("ops.host (DOZOR_OPS_HOST): missing");
    }

    @Test
    void weakShippedOrRepeatedSecretsAndBadLifetimesAreRefused() {
        String prefix = "auth.token_secret (DOZOR_AUTH_TOKEN_SECRET): ";
        env.put("DOZOR_AUTH_TOKEN_SECRET", "change-me-to-32-or-more-random-characters");
        assertRefused(prefix + "is an example value shipped with Dozor; make one with `dozor-server secret generate`");
        env.put("DOZOR_AUTH_TOKEN_SECRET", "12345678901234567890123456789012");
        assertRefused(prefix + "too predictable (few distinct characters, a repeated block or a run such as 12345678);"
                + " make one with `dozor-server secret generate`");
        env.put("DOZOR_AUTH_TOKEN_SECRET", SECRET + ",short");
        assertRefused(prefix + "key 2 of 2: too short (5 characters; at least 32)");
        env.put("DOZOR_AUTH_TOKEN_SECRET", SECRET + "," + SECRET);
        assertRefused(prefix + "the same key is listed twice");
        env.put("DOZOR_AUTH_TOKEN_SECRET", " , ");
        assertRefused(prefix + "missing");

        String other = io.dozor.server.auth.Secrets.generate();
        env.put("DOZOR_AUTH_TOKEN_SECRET", other + ", " + SECRET);
        ServerConfig.Auth auth = load().auth();
        assertThat(auth.tokenSecrets()).containsExactly(other, SECRET);
        assertThat(auth.accessTokenTtl()).isEqualTo(java.time.Duration.ofMinutes(15));
        assertThat(auth.refreshTokenTtl()).isEqualTo(java.time.Duration.ofDays(30));
        assertThat(auth.tokenTtl()).isEqualTo(java.time.Duration.ofDays(90));
        assertThat(auth.toString()).doesNotContain(other).doesNotContain(SECRET);

        env.put("DOZOR_AUTH_ACCESS_TOKEN_TTL", "1s");
        assertRefused("auth.access_token_ttl (DOZOR_AUTH_ACCESS_TOKEN_TTL): must be from 2s to 1d");
        env.put("DOZOR_AUTH_ACCESS_TOKEN_TTL", "soon");
        assertRefused("auth.access_token_ttl (DOZOR_AUTH_ACCESS_TOKEN_TTL): must be a duration such as 30s, 10m, 1h30m,"
                + " got \"soon\"");
        env.put("DOZOR_AUTH_ACCESS_TOKEN_TTL", "1h");
        env.put("DOZOR_AUTH_REFRESH_TOKEN_TTL", "90m");
        assertRefused(
                "auth.refresh_token_ttl (DOZOR_AUTH_REFRESH_TOKEN_TTL): must be at least twice auth.access_token_ttl");
        env.remove("DOZOR_AUTH_REFRESH_TOKEN_TTL");
        env.put("DOZOR_AUTH_TOKEN_TTL", "30s");
        assertRefused("auth.token_ttl (DOZOR_AUTH_TOKEN_TTL): must be at least 1m");
    }

    @Test
    void tokenCacheTtlDefaultsTo30sAllowsZeroAndIsBounded() {
        assertThat(load().auth().tokenCacheTtl()).isEqualTo(java.time.Duration.ofSeconds(30));
        env.put("DOZOR_AUTH_TOKEN_CACHE_TTL", "0s");
        assertThat(load().auth().tokenCacheTtl()).isZero();
        env.put("DOZOR_AUTH_TOKEN_CACHE_TTL", "1h");
        assertThat(load().auth().tokenCacheTtl()).isEqualTo(java.time.Duration.ofHours(1));
        env.put("DOZOR_AUTH_TOKEN_CACHE_TTL", "45"); // a bare number is seconds, as everywhere
        assertThat(load().auth().tokenCacheTtl()).isEqualTo(java.time.Duration.ofSeconds(45));
        env.put("DOZOR_AUTH_TOKEN_CACHE_TTL", "1h1s");
        assertRefused("auth.token_cache_ttl (DOZOR_AUTH_TOKEN_CACHE_TTL): must be at most 1h (a bound on a missed"
                + " revocation), or 0s");
        env.put("DOZOR_AUTH_TOKEN_CACHE_TTL", "");
        assertRefused("auth.token_cache_ttl (DOZOR_AUTH_TOKEN_CACHE_TTL): missing");
        for (String bad : List.of("-5s", "forever", "30x", "1 h")) {
            env.put("DOZOR_AUTH_TOKEN_CACHE_TTL", bad);
            assertRefused("auth.token_cache_ttl (DOZOR_AUTH_TOKEN_CACHE_TTL): must be a duration such as 30s, 10m,"
                    + " 1h30m, got \"" + bad + "\"");
        }
    }

    @Test
    void bulkSettingsHaveDefaultsAndBounds() {
        assertThat(load().elasticsearch().bulkSize()).isEqualTo(1000);
        assertThat(load().elasticsearch().bulkConcurrency()).isEqualTo(2);
        env.put("DOZOR_ELASTICSEARCH_BULK_SIZE", "0");
        assertRefused("elasticsearch.bulk_size (DOZOR_ELASTICSEARCH_BULK_SIZE): must be positive, got 0");
        env.put("DOZOR_ELASTICSEARCH_BULK_SIZE", "20000");
        assertRefused("elasticsearch.bulk_size (DOZOR_ELASTICSEARCH_BULK_SIZE): at most 10000, got 20000");
        env.remove("DOZOR_ELASTICSEARCH_BULK_SIZE");
        env.put("DOZOR_ELASTICSEARCH_BULK_CONCURRENCY", "17");
        assertRefused("elasticsearch.bulk_concurrency (DOZOR_ELASTICSEARCH_BULK_CONCURRENCY): at most 16, got 17");
    }

    @Test
    void boundsHaveDefaultsAndAreReadFromYaml() throws IOException {
        ServerConfig c = load();
        assertThat(c.http().idleTimeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(c.http().headerTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.http().bodyTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.http().maxConnections()).isEqualTo(16384);
        assertThat(c.http().maxConnectionsPerAddress()).isEqualTo(256);
        assertThat(c.http().tlsHandshakeThreads()).isZero();
        assertThat(c.http().handshakeThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.ingest()).isEqualTo(new ServerConfig.Ingest(Duration.ofDays(1), 100, 2000, 64));
        c = load("http:\n  header_timeout: 5s\n  max_connections_per_address: 10\n  tls_handshake_threads: 3\n"
                + "ingest:\n  max_future_skew: 2h\n  rate_per_agent: 0\n  burst_per_agent: 5000\n  max_in_flight: 0\n");
        assertThat(c.http().headerTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.http().maxConnectionsPerAddress()).isEqualTo(10);
        assertThat(c.http().handshakeThreads()).isEqualTo(3);
        assertThat(c.ingest()).isEqualTo(new ServerConfig.Ingest(Duration.ofHours(2), 0, 5000, 0));
    }

    @Test
    void badBoundsAreNamed() {
        Map<String, String> bad = Map.of(
                "DOZOR_HTTP_IDLE_TIMEOUT",
                "http.idle_timeout (DOZOR_HTTP_IDLE_TIMEOUT): must be longer than zero",
                "DOZOR_HTTP_HEADER_TIMEOUT",
                "http.header_timeout (DOZOR_HTTP_HEADER_TIMEOUT): must be longer than zero",
                "DOZOR_HTTP_BODY_TIMEOUT",
                "http.body_timeout (DOZOR_HTTP_BODY_TIMEOUT): must be longer than zero",
                "DOZOR_HTTP_MAX_CONNECTIONS",
                "http.max_connections (DOZOR_HTTP_MAX_CONNECTIONS): must be between 1 and 1000000, got 0",
                "DOZOR_HTTP_MAX_CONNECTIONS_PER_ADDRESS",
                "http.max_connections_per_address (DOZOR_HTTP_MAX_CONNECTIONS_PER_ADDRESS): must be between 1 and 1000000, got 0");
        bad.forEach((name, message) -> {
            env.put(name, name.contains("TIMEOUT") ? "0s" : "0");
            assertRefused(message);
            env.remove(name);
        });
        env.put("DOZOR_HTTP_TLS_HANDSHAKE_THREADS", "1025");
        assertRefused(
                "http.tls_handshake_threads (DOZOR_HTTP_TLS_HANDSHAKE_THREADS): must be between 0 and 1024, got 1025");
        env.put("DOZOR_HTTP_TLS_HANDSHAKE_THREADS", "-1");
        assertRefused(
                "http.tls_handshake_threads (DOZOR_HTTP_TLS_HANDSHAKE_THREADS): must be between 0 and 1024, got -1");
        env.remove("DOZOR_HTTP_TLS_HANDSHAKE_THREADS");
        env.put("DOZOR_INGEST_MAX_FUTURE_SKEW", "tomorrow");
        assertRefused(
                "ingest.max_future_skew (DOZOR_INGEST_MAX_FUTURE_SKEW): must be a duration such as 30s, 10m, 1h30m, "
                        + "got \"tomorrow\"");
        env.remove("DOZOR_INGEST_MAX_FUTURE_SKEW");
        env.put("DOZOR_INGEST_RATE_PER_AGENT", "-1");
        assertRefused("ingest.rate_per_agent (DOZOR_INGEST_RATE_PER_AGENT): must be between 0 and 1000000, got -1");
        env.remove("DOZOR_INGEST_RATE_PER_AGENT");
        env.put("DOZOR_INGEST_MAX_IN_FLIGHT", "-1");
        assertRefused("ingest.max_in_flight (DOZOR_INGEST_MAX_IN_FLIGHT): must be between 0 and 1000000, got -1");
        env.remove("DOZOR_INGEST_MAX_IN_FLIGHT");
        env.put("DOZOR_INGEST_BURST_PER_AGENT", "500");
        assertRefused(
                "ingest.burst_per_agent (DOZOR_INGEST_BURST_PER_AGENT): must be between 1000 and 10000000, got 500");
    }

    @Test
    void unknownYamlKeyIsAnErrorNotASilentDefault() {
        assertThatThrownBy(() -> load("http:\n  prot: 8443\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("http.prot: unknown setting");
    }

    @Test
    void malformedYamlNamesTheFile() {
        assertThatThrownBy(() -> load("http: [unclosed\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("config file " + dir.resolve("server.yaml") + ": ");
    }

    @Test
    void templateWithoutProcessPlaceholderIsRefused() {
        env.put("DOZOR_TELEGRAM_TEMPLATE", "launch by {user}");
        assertRefused("telegram.template (DOZOR_TELEGRAM_TEMPLATE): must contain {process}");
    }

    @Test
    void logstashIsOffByDefaultAndTakesHostColonPort() throws IOException {
        assertThat(load().logLogstash()).isEmpty();
        assertThat(load("log:\n  logstash: logstash:5000\n").logLogstash()).contains("logstash:5000");
        env.put("DOZOR_LOG_LOGSTASH", "10.0.0.5:5044");
        assertThat(load().logLogstash()).contains("10.0.0.5:5044");
    }

    @Test
    void logstashWithoutAPortIsRefused() {
        for (String bad : List.of("logstash", "logstash:", ":5000", "logstash:99999", "tcp://logstash:5000")) {
            env.put("DOZOR_LOG_LOGSTASH", bad);
            assertRefused("log.logstash (DOZOR_LOG_LOGSTASH): must be host:port of Logstash's tcp input, got \"" + bad
                    + "\"");
        }
    }

    @Test
    void printedSettingsCarryNoSecret() {
        env.put("DOZOR_POSTGRES_URL", "postgresql://dozor:pg-Pa55word@db:5432/dozor");
        env.put("DOZOR_TELEGRAM_BOT_TOKEN", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");
        String printed = load().toString();
        assertThat(printed)
                .doesNotContain("pg-Pa55word", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", SECRET)
                .contains("postgresql://dozor:***@db:5432/dozor");
    }

    @Test
    void redactHidesOnlyThePasswordOfAUrl() {
        assertThat(ServerConfig.Postgres.redact("postgresql://dozor:s3cr%40t@db:5432/dozor"))
                .isEqualTo("postgresql://dozor:***@db:5432/dozor");
        assertThat(ServerConfig.Postgres.redact("postgresql://dozor@db:5432/dozor"))
                .isEqualTo("postgresql://dozor@db:5432/dozor");
    }
}
