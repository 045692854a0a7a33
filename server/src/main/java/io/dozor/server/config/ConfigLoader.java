package io.dozor.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vertx.pgclient.PgConnectOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Reads settings from an optional YAML file, then lets {@code DOZOR_*} environment variables override
 * them, and validates everything before anything starts. Unknown YAML keys are errors: a typo must not
 * silently fall back to a default.
 */
public final class ConfigLoader {
    static final String FILTERS_KEY = "telegram.filters";
    static final int MAX_DIGEST_AFTER = 100;
    /** A burst must hold the largest batch, or such a batch would be refused for ever. */
    static final int MAX_BATCH_EVENTS = io.dozor.server.http.EventBatchParser.MAX_EVENTS;
    /** While the revocation listener is down, a revoked token is still accepted for at most this long. */
    static final java.time.Duration MAX_TOKEN_CACHE_TTL = java.time.Duration.ofHours(1);

    private final Map<String, String> env;

    public ConfigLoader(Map<String, String> env) {
        this.env = env;
    }

    /** Settings for {@code run}: everything is checked, the TLS certificate and key included. */
    public ServerConfig load(Optional<Path> yamlFile) {
        return load(yamlFile, true);
    }

    /**
     * Settings for the commands that do not serve HTTP (tokens, setup, reindex, ...): the same checks, except
     * that TLS need not be set up.
     */
    public ServerConfig loadForTools(Optional<Path> yamlFile) {
        return load(yamlFile, false);
    }

    private ServerConfig load(Optional<Path> yamlFile, boolean serving) {
        Map<Setting, String> raw = new EnumMap<>(Setting.class);
        JsonNode filters = yamlFile.map(file -> readYaml(file, raw))
                .map(root -> root.path("telegram").path("filters"))
                .orElse(null);
        for (Setting s : Setting.values()) {
            String fromEnv = env.get(s.envName());
            if (fromEnv != null) {
                raw.put(s, fromEnv);
            }
        }
        return new Reader(raw, filters, yamlFile, serving).config();
    }

    /** Reads the file into {@code into}; the answer is the whole document (for the YAML-only filters). */
    private static JsonNode readYaml(Path file, Map<Setting, String> into) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new ConfigException("config file " + file + ": " + firstLine(e.getMessage()));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
        if (!root.isObject()) {
            throw new ConfigException("config file " + file + ": must be a YAML mapping of sections");
        }
        flatten("", root, into);
        return root;
    }

    private static void flatten(String prefix, JsonNode node, Map<Setting, String> into) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = prefix + field.getKey();
            JsonNode value = field.getValue();
            Optional<Setting> setting = Setting.byKey(key);
            if (key.equals(FILTERS_KEY)) {
                continue; // YAML only, read whole by the Reader
            }
            if (setting.isPresent()) {
                if (!value.isNull()) {
                    into.put(setting.get(), scalarOrList(key, value));
                }
            } else if (value.isObject()) {
                flatten(key + ".", value, into);
            } else {
                throw new ConfigException(key + ": unknown setting");
            }
        }
    }

    private static String scalarOrList(String key, JsonNode value) {
        if (value.isArray()) {
            List<String> items = new ArrayList<>();
            value.forEach(v -> items.add(v.asText()));
            return String.join(",", items);
        }
        if (value.isContainerNode()) {
            throw new ConfigException(key + ": must be a value or a list, not a mapping");
        }
        return value.asText();
    }

    private static String firstLine(String message) {
        return message == null ? "unreadable" : message.lines().findFirst().orElse(message);
    }

    /** Typed access to the merged raw values; each failure names its setting. */
    private static final class Reader {
        private final Map<Setting, String> raw;
        private final JsonNode filters;
        private final Optional<Path> file;
        private final boolean serving;

        Reader(Map<Setting, String> raw, JsonNode filters, Optional<Path> file, boolean serving) {
            this.raw = raw;
            this.filters = filters;
            this.file = file;
            this.serving = serving;
        }

        ServerConfig config() {
            boolean plain = bool(Setting.HTTP_PLAIN);
            Optional<Path> cert = optional(Setting.HTTP_TLS_CERT).map(v -> readableFile(Setting.HTTP_TLS_CERT, v));
            Optional<Path> key = optional(Setting.HTTP_TLS_KEY).map(v -> readableFile(Setting.HTTP_TLS_KEY, v));
            if (!plain && serving) {
                if (cert.isEmpty()) {
                    throw new ConfigException(
                            Setting.HTTP_TLS_CERT,
                            "missing (TLS is required; set " + Setting.HTTP_PLAIN.envName()
                                    + "=true to serve plain HTTP)");
                }
                if (key.isEmpty()) {
                    throw new ConfigException(Setting.HTTP_TLS_KEY, "missing (PEM private key for the certificate)");
                }
            }
            var http = new ServerConfig.Http(
                    string(Setting.HTTP_HOST),
                    port(Setting.HTTP_PORT),
                    plain ? Optional.empty() : cert,
                    plain ? Optional.empty() : key,
                    plain,
                    positiveLong(Setting.HTTP_MAX_BODY_BYTES),
                    nonNegativeInt(Setting.HTTP_INSTANCES),
                    bounded(Setting.HTTP_TLS_HANDSHAKE_THREADS, 0, 1024),
                    bounded(Setting.HTTP_TLS_HANDSHAKE_QUEUE, 1, 1_000_000),
                    duration(Setting.HTTP_IDLE_TIMEOUT, false),
                    duration(Setting.HTTP_HEADER_TIMEOUT, false),
                    duration(Setting.HTTP_BODY_TIMEOUT, false),
                    bounded(Setting.HTTP_MAX_CONNECTIONS, 1, 1_000_000),
                    bounded(Setting.HTTP_MAX_CONNECTIONS_PER_ADDRESS, 1, 1_000_000));
            var ingest = new ServerConfig.Ingest(
                    duration(Setting.INGEST_MAX_FUTURE_SKEW, true),
                    bounded(Setting.INGEST_RATE_PER_AGENT, 0, 1_000_000),
                    bounded(Setting.INGEST_BURST_PER_AGENT, MAX_BATCH_EVENTS, 10_000_000),
                    bounded(Setting.INGEST_MAX_IN_FLIGHT, 0, 1_000_000));

            var auth = auth();

            String pgUrl = string(Setting.POSTGRES_URL);
            try {
                PgConnectOptions.fromUri(pgUrl);
            } catch (RuntimeException e) {
                throw new ConfigException(Setting.POSTGRES_URL, "not a postgresql://user@host:port/db URL");
            }
            var postgres = new ServerConfig.Postgres(pgUrl, positiveInt(Setting.POSTGRES_POOL_SIZE));

            List<URI> esUrls = list(Setting.ELASTICSEARCH_URLS, v -> httpUrl(Setting.ELASTICSEARCH_URLS, v));
            if (esUrls.isEmpty()) {
                throw new ConfigException(Setting.ELASTICSEARCH_URLS, "missing");
            }
            String prefix = string(Setting.ELASTICSEARCH_INDEX_PREFIX);
            if (!prefix.matches("[a-z0-9][a-z0-9._-]*")) {
                throw new ConfigException(
                        Setting.ELASTICSEARCH_INDEX_PREFIX,
                        "must be a lowercase index name (a-z, 0-9, '.', '_', '-'), got \"" + prefix + "\"");
            }
            var overlap = io.dozor.server.setup.IndexTemplate.overlapProblem(prefix);
            if (overlap.isPresent()) {
                throw new ConfigException(Setting.ELASTICSEARCH_INDEX_PREFIX, overlap.get());
            }
            int bulkSize = positiveInt(Setting.ELASTICSEARCH_BULK_SIZE);
            int bulkConcurrency = positiveInt(Setting.ELASTICSEARCH_BULK_CONCURRENCY);
            if (bulkSize > 10_000) {
                throw new ConfigException(Setting.ELASTICSEARCH_BULK_SIZE, "at most 10000, got " + bulkSize);
            }
            if (bulkConcurrency > 16) {
                throw new ConfigException(Setting.ELASTICSEARCH_BULK_CONCURRENCY, "at most 16, got " + bulkConcurrency);
            }
            var elasticsearch = new ServerConfig.Elasticsearch(esUrls, prefix, bulkSize, bulkConcurrency);

            var telegram = new ServerConfig.Telegram(
                    httpUrl(Setting.TELEGRAM_API_URL, string(Setting.TELEGRAM_API_URL)),
                    optional(Setting.TELEGRAM_BOT_TOKEN),
                    list(Setting.TELEGRAM_CHAT_IDS, v -> chatId(v)),
                    zone(),
                    template(),
                    positiveInt(Setting.TELEGRAM_THRESHOLD_COUNT),
                    duration(Setting.TELEGRAM_THRESHOLD_WINDOW, false),
                    duration(Setting.TELEGRAM_COOLDOWN, true),
                    quietHours(),
                    quietDrop(),
                    digestAfter(),
                    duration(Setting.TELEGRAM_MUTE_DEFAULT, false),
                    list(Setting.TELEGRAM_ADMIN_USER_IDS, v -> adminUserId(v)),
                    bool(Setting.TELEGRAM_BOT_POLLING),
                    duration(Setting.TELEGRAM_SILENT_AGENT_AFTER, true),
                    filters(),
                    file);
            return new ServerConfig(
                    http,
                    auth,
                    postgres,
                    elasticsearch,
                    telegram,
                    ingest,
                    Path.of(string(Setting.LOG_DIR)),
                    optional(Setting.LOG_LOGSTASH).map(v -> hostPort(Setting.LOG_LOGSTASH, v)),
                    retention(),
                    ops(http));
        }

        /** The ops listener needs a port of its own (0 for both: two free ports). */
        private ServerConfig.Ops ops(ServerConfig.Http http) {
            int port = port(Setting.OPS_PORT);
            if (port != 0 && port == http.port()) {
                throw new ConfigException(
                        Setting.OPS_PORT, "must differ from " + Setting.HTTP_PORT.key() + " (" + port + ")");
            }
            return new ServerConfig.Ops(string(Setting.OPS_HOST), port);
        }

        private Optional<String> optional(Setting s) {
            String v = raw.containsKey(s) ? raw.get(s) : s.defaultValue().orElse(null);
            return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
        }

        private String string(Setting s) {
            return optional(s).orElseThrow(() -> new ConfigException(s, "missing"));
        }

        private boolean bool(Setting s) {
            String v = string(s);
            return switch (v.toLowerCase()) {
                case "true", "yes", "on", "1" -> true;
                case "false", "no", "off", "0" -> false;
                default -> throw new ConfigException(s, "must be true or false, got \"" + v + "\"");
            };
        }

        private long parseLong(Setting s) {
            String v = string(s);
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new ConfigException(s, "must be a whole number, got \"" + v + "\"");
            }
        }

        private long positiveLong(Setting s) {
            long v = parseLong(s);
            if (v <= 0) {
                throw new ConfigException(s, "must be positive, got " + v);
            }
            return v;
        }

        private int positiveInt(Setting s) {
            long v = positiveLong(s);
            if (v > Integer.MAX_VALUE) {
                throw new ConfigException(s, "too large: " + v);
            }
            return (int) v;
        }

        /** A whole number in [min, max]. */
        private int bounded(Setting s, int min, int max) {
            long v = parseLong(s);
            if (v < min || v > max) {
                throw new ConfigException(s, "must be between " + min + " and " + max + ", got " + v);
            }
            return (int) v;
        }

        private int nonNegativeInt(Setting s) {
            long v = parseLong(s);
            if (v < 0 || v > 1024) {
                throw new ConfigException(s, "must be between 0 and 1024, got " + v);
            }
            return (int) v;
        }

        private int port(Setting s) {
            long v = parseLong(s);
            if (v < 0 || v > 65535) {
                throw new ConfigException(s, "must be a port number 0-65535, got " + v);
            }
            return (int) v;
        }

        private Path readableFile(Setting s, String v) {
            Path p = Path.of(v);
            if (!Files.isReadable(p) || Files.isDirectory(p)) {
                throw new ConfigException(s, "cannot read file " + p);
            }
            return p;
        }

        private <T> List<T> list(Setting s, Function<String, T> parse) {
            return optional(s)
                    .map(v -> Arrays.stream(v.split(","))
                            .map(String::trim)
                            .filter(x -> !x.isEmpty())
                            .map(parse)
                            .toList())
                    .orElse(List.of());
        }

        private URI httpUrl(Setting s, String v) {
            try {
                URI uri = new URI(v.endsWith("/") ? v.substring(0, v.length() - 1) : v);
                if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                    throw new ConfigException(s, "must be an http(s) URL, got \"" + v + "\"");
                }
                return uri;
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException(s, "must be an http(s) URL, got \"" + v + "\"");
            }
        }

        private String hostPort(Setting s, String v) {
            int colon = v.lastIndexOf(':');
            String host = colon > 0 ? v.substring(0, colon) : "";
            String port = colon > 0 ? v.substring(colon + 1) : "";
            if (!host.matches("[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+]")
                    || !port.matches("[0-9]{1,5}")
                    || Integer.parseInt(port) < 1
                    || Integer.parseInt(port) > 65535) {
                throw new ConfigException(s, "must be host:port of Logstash's tcp input, got \"" + v + "\"");
            }
            return v;
        }

        private Long chatId(String v) {
            return integer(Setting.TELEGRAM_CHAT_IDS, v);
        }

        /** A person's id: Telegram's own senders (0, the service account, the anonymous admins' bot) are refused. */
        private Long adminUserId(String v) {
            long id = integer(Setting.TELEGRAM_ADMIN_USER_IDS, v);
            if (io.dozor.server.rules.Senders.isTelegramItself(id)) {
                throw new ConfigException(
                        Setting.TELEGRAM_ADMIN_USER_IDS,
                        id + " is not a person's user id (user ids are "
                                + "positive; 777000 and 1087968824 are Telegram's service account and anonymous admins' bot)");
            }
            return id;
        }

        private Long integer(Setting s, String v) {
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new ConfigException(
                        s, (s == Setting.TELEGRAM_CHAT_IDS ? "chat" : "user") + " ids are integers, got \"" + v + "\"");
            }
        }

        /** One key, or several separated by commas (a YAML list too): the first signs, all verify. */
        private ServerConfig.Auth auth() {
            string(Setting.AUTH_TOKEN_SECRET); // "missing" when absent
            List<String> secrets = list(Setting.AUTH_TOKEN_SECRET, v -> v);
            if (secrets.isEmpty()) {
                throw new ConfigException(Setting.AUTH_TOKEN_SECRET, "missing");
            }
            for (int i = 0; i < secrets.size(); i++) {
                String which = secrets.size() == 1 ? "" : "key " + (i + 1) + " of " + secrets.size() + ": ";
                String problem =
                        io.dozor.server.auth.Secrets.problem(secrets.get(i)).orElse(null);
                if (problem != null) {
                    throw new ConfigException(Setting.AUTH_TOKEN_SECRET, which + problem);
                }
            }
            if (secrets.stream().distinct().count() < secrets.size()) {
                throw new ConfigException(Setting.AUTH_TOKEN_SECRET, "the same key is listed twice");
            }
            java.time.Duration access = duration(Setting.AUTH_ACCESS_TOKEN_TTL, false);
            java.time.Duration refresh = duration(Setting.AUTH_REFRESH_TOKEN_TTL, false);
            if (access.compareTo(java.time.Duration.ofSeconds(2)) < 0
                    || access.compareTo(java.time.Duration.ofDays(1)) > 0) {
                throw new ConfigException(Setting.AUTH_ACCESS_TOKEN_TTL, "must be from 2s to 1d");
            }
            if (refresh.compareTo(access.multipliedBy(2)) < 0) {
                throw new ConfigException(
                        Setting.AUTH_REFRESH_TOKEN_TTL, "must be at least twice auth.access_token_ttl");
            }
            java.time.Duration tokens = duration(Setting.AUTH_TOKEN_TTL, false);
            if (tokens.compareTo(java.time.Duration.ofMinutes(1)) < 0) {
                throw new ConfigException(Setting.AUTH_TOKEN_TTL, "must be at least 1m");
            }
            java.time.Duration cache = duration(Setting.AUTH_TOKEN_CACHE_TTL, true);
            if (cache.compareTo(MAX_TOKEN_CACHE_TTL) > 0) {
                throw new ConfigException(
                        Setting.AUTH_TOKEN_CACHE_TTL, "must be at most 1h (a bound on a missed revocation), or 0s");
            }
            return new ServerConfig.Auth(secrets, access, refresh, tokens, cache);
        }

        private java.time.Duration duration(Setting s, boolean zeroAllowed) {
            String v = string(s);
            var d = io.dozor.server.rules.Durations.parse(v)
                    .orElseThrow(() ->
                            new ConfigException(s, "must be a duration such as 30s, 10m, 1h30m, got \"" + v + "\""));
            if (d.isZero() && !zeroAllowed) {
                throw new ConfigException(s, "must be longer than zero");
            }
            return d;
        }

        private io.dozor.server.rules.QuietHours quietHours() {
            try {
                return io.dozor.server.rules.QuietHours.parse(list(Setting.TELEGRAM_QUIET_HOURS, v -> v));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(Setting.TELEGRAM_QUIET_HOURS, e.getMessage());
            }
        }

        private boolean quietDrop() {
            String v = string(Setting.TELEGRAM_QUIET_ACTION);
            return switch (v) {
                case "digest" -> false;
                case "drop" -> true;
                default ->
                    throw new ConfigException(
                            Setting.TELEGRAM_QUIET_ACTION, "must be digest or drop, got \"" + v + "\"");
            };
        }

        private int digestAfter() {
            int v = positiveInt(Setting.TELEGRAM_DIGEST_AFTER);
            if (v > MAX_DIGEST_AFTER) {
                throw new ConfigException(Setting.TELEGRAM_DIGEST_AFTER, "at most " + MAX_DIGEST_AFTER + ", got " + v);
            }
            return v;
        }

        private io.dozor.server.rules.Filters filters() {
            try {
                return io.dozor.server.rules.Filters.parse(filters);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(e.getMessage() + " (YAML only)");
            }
        }

        private ServerConfig.Retention retention() {
            long days = parseLong(Setting.RETENTION_DAYS);
            if (days < 0 || days > ServerConfig.Retention.MAX_DAYS) {
                throw new ConfigException(
                        Setting.RETENTION_DAYS,
                        "must be between 0 (keep forever) and " + ServerConfig.Retention.MAX_DAYS + ", got " + days);
            }
            return new ServerConfig.Retention((int) days, duration(Setting.RETENTION_INTERVAL, false));
        }

        private ZoneId zone() {
            Optional<String> v = optional(Setting.TELEGRAM_TIME_ZONE);
            try {
                return v.map(ZoneId::of).orElse(ZoneId.systemDefault());
            } catch (DateTimeException e) {
                throw new ConfigException(Setting.TELEGRAM_TIME_ZONE, "unknown time zone \"" + v.get() + "\"");
            }
        }

        private String template() {
            String t = string(Setting.TELEGRAM_TEMPLATE);
            for (String placeholder : List.of("{process}")) {
                if (!t.contains(placeholder)) {
                    throw new ConfigException(Setting.TELEGRAM_TEMPLATE, "must contain " + placeholder);
                }
            }
            return t;
        }
    }
}
