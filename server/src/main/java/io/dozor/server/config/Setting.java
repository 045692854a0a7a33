package io.dozor.server.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * Every server setting: its YAML path, its default and, derived from the path, its environment
 * variable ({@code http.tls.cert} is {@code DOZOR_HTTP_TLS_CERT}). The one place that names them.
 */
public enum Setting {
    HTTP_HOST("http.host", "0.0.0.0"),
    HTTP_PORT("http.port", "8443"),
    HTTP_TLS_CERT("http.tls.cert", null),
    HTTP_TLS_KEY("http.tls.key", null),
    HTTP_PLAIN("http.plain", "false"),
    HTTP_MAX_BODY_BYTES("http.max_body_bytes", "1048576"),
    HTTP_INSTANCES("http.instances", "0"),
    HTTP_TLS_HANDSHAKE_THREADS("http.tls_handshake_threads", "0"),
    HTTP_TLS_HANDSHAKE_QUEUE("http.tls_handshake_queue", "256"),
    HTTP_IDLE_TIMEOUT("http.idle_timeout", "120s"),
    HTTP_HEADER_TIMEOUT("http.header_timeout", "10s"),
    HTTP_BODY_TIMEOUT("http.body_timeout", "60s"),
    HTTP_MAX_CONNECTIONS("http.max_connections", "16384"),
    HTTP_MAX_CONNECTIONS_PER_ADDRESS("http.max_connections_per_address", "256"),
    INGEST_MAX_FUTURE_SKEW("ingest.max_future_skew", "1d"),
    INGEST_RATE_PER_AGENT("ingest.rate_per_agent", "100"),
    INGEST_BURST_PER_AGENT("ingest.burst_per_agent", "2000"),
    INGEST_MAX_IN_FLIGHT("ingest.max_in_flight", "64"),
    OPS_HOST("ops.host", "127.0.0.1"),
    OPS_PORT("ops.port", Integer.toString(ServerConfig.Ops.DEFAULT_PORT)),
    AUTH_TOKEN_SECRET("auth.token_secret", null),
    AUTH_ACCESS_TOKEN_TTL("auth.access_token_ttl", "15m"),
    AUTH_REFRESH_TOKEN_TTL("auth.refresh_token_ttl", "30d"),
    AUTH_TOKEN_TTL("auth.token_ttl", "90d"),
    AUTH_TOKEN_CACHE_TTL("auth.token_cache_ttl", "30s"),
    POSTGRES_URL("postgres.url", null),
    POSTGRES_POOL_SIZE("postgres.pool_size", "8"),
    ELASTICSEARCH_URLS("elasticsearch.urls", null),
    ELASTICSEARCH_INDEX_PREFIX("elasticsearch.index_prefix", "dozor-events"),
    ELASTICSEARCH_BULK_SIZE("elasticsearch.bulk_size", "1000"),
    ELASTICSEARCH_BULK_CONCURRENCY("elasticsearch.bulk_concurrency", "2"),
    TELEGRAM_API_URL("telegram.api_url", "https://api.telegram.org"),
    TELEGRAM_BOT_TOKEN("telegram.bot_token", null),
    TELEGRAM_CHAT_IDS("telegram.chat_ids", ""),
    TELEGRAM_TIME_ZONE("telegram.time_zone", null),
    TELEGRAM_TEMPLATE("telegram.template", "[{time}] Пользователь {user} запустил {process}"),
    TELEGRAM_THRESHOLD_COUNT("telegram.threshold.count", "1"),
    TELEGRAM_THRESHOLD_WINDOW("telegram.threshold.window", "10m"),
    TELEGRAM_COOLDOWN("telegram.cooldown", "0s"),
    TELEGRAM_QUIET_HOURS("telegram.quiet_hours", ""),
    TELEGRAM_QUIET_ACTION("telegram.quiet_action", "digest"),
    TELEGRAM_DIGEST_AFTER("telegram.digest_after", "10"),
    TELEGRAM_MUTE_DEFAULT("telegram.mute_default", "1h"),
    TELEGRAM_ADMIN_USER_IDS("telegram.admin_user_ids", ""),
    TELEGRAM_BOT_POLLING("telegram.bot_polling", "true"),
    TELEGRAM_SILENT_AGENT_AFTER("telegram.silent_agent_after", "15m"),
    RETENTION_DAYS("retention.days", "180"),
    RETENTION_INTERVAL("retention.interval", "1h"),
    LOG_DIR("log.dir", "logs"),
    LOG_LOGSTASH("log.logstash", null);

    private final String key;
    private final String defaultValue;

    Setting(String key, String defaultValue) {
        this.key = key;
        this.defaultValue = defaultValue;
    }

    public String key() {
        return key;
    }

    public String envName() {
        return "DOZOR_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    public Optional<String> defaultValue() {
        return Optional.ofNullable(defaultValue);
    }

    public static Optional<Setting> byKey(String key) {
        return Arrays.stream(values()).filter(s -> s.key.equals(key)).findFirst();
    }
}
