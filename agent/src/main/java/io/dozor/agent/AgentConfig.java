package io.dozor.agent;

import io.dozor.common.PrivateFiles;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.ini4j.Config;
import org.ini4j.Ini;
import org.ini4j.InvalidFileFormatException;
import org.ini4j.Profile;

/**
 * The agent's settings, read once from an INI file (docs/agent-settings.md).
 *
 * <p>Relative paths ({@code ca_file}, {@code [spool] dir}, {@code [log] dir}) are resolved against the
 * directory of the INI file, not the working directory: a Windows service starts in {@code System32}.
 * Backslashes are taken literally ({@code C:\dozor\ca.pem}), and a {@code ;} or {@code #} preceded by a
 * space starts a comment. Unknown sections and keys are refused, so a typo never silently falls back to
 * a default. A plain {@code http://} url is refused unless {@code [server] allow_insecure_http = true}; the agent
 * then warns at every start.
 *
 * @param serverUrl      base URL of the server, without a trailing slash
 * @param token          agent token (never printed by {@link #toString()}), or null when enrolling
 * @param caFile         PEM certificates to trust for https; null for http
 * @param processes      watched process names as written ({@code chrome}, {@code browser.exe}, ...)
 * @param pollInterval   time between two process snapshots
 * @param excludeUsers   users whose launches are ignored (case-insensitive, domain prefix ignored), in
 *                       addition to SYSTEM, LOCAL SERVICE and NETWORK SERVICE which are always ignored
 * @param reportExisting report the processes already running at start as launches
 * @param spoolDir       directory of the durable queue, or null for a queue in memory (tests)
 * @param logDir         directory of the log files, or null for the default
 * @param logstash       host:port of a Logstash tcp json_lines input that also gets the log lines, or null
 * @param excludeNames   program names never reported even when watched ({@code [monitor] exclude_names})
 * @param excludePaths   executables under these paths are never reported ({@code [monitor] exclude_paths})
 * @param spoolMaxBytes  bound of the spool ({@code [spool] max_mb}): the oldest events are dropped beyond it
 * @param heartbeatInterval time between two heartbeats ({@code [server] heartbeat_interval_s})
 * @param enrollmentToken an enrollment token ({@code [server] enrollment_token}) instead of {@code token}: the
 *                       agent enrols itself once and keeps its own credential in the spool directory (never
 *                       printed by {@link #toString()}); exactly one of the two is set
 */
public record AgentConfig(
        URI serverUrl,
        String token,
        Path caFile,
        List<String> processes,
        Duration pollInterval,
        List<String> excludeUsers,
        boolean reportExisting,
        Path spoolDir,
        Path logDir,
        String logstash,
        List<String> excludeNames,
        List<String> excludePaths,
        long spoolMaxBytes,
        Duration heartbeatInterval,
        String enrollmentToken) {

    public static final List<String> DEFAULT_PROCESSES = List.of("chrome", "browser", "telegram", "explorer");
    public static final List<String> DEFAULT_EXCLUDE_USERS = List.of("SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE");
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(1000);
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(60);
    public static final double DEFAULT_SPOOL_MAX_MB = 64;
    private static final long MB = 1024 * 1024;

    private static final Map<String, Set<String>> KNOWN_KEYS = Map.of(
            "server", Set.of("url", "token", "enrollment_token", "ca_file", "heartbeat_interval_s",
                    "allow_insecure_http"),
            "monitor", Set.of("processes", "poll_interval_ms", "exclude_users", "report_existing",
                    "exclude_names", "exclude_paths"),
            "spool", Set.of("dir", "max_mb"),
            "log", Set.of("dir", "logstash"));

    public AgentConfig {
        Objects.requireNonNull(serverUrl, "serverUrl");
        if ((token == null) == (enrollmentToken == null)) {
            throw new IllegalArgumentException("exactly one of token and enrollmentToken");
        }
        processes = List.copyOf(processes);
        excludeUsers = List.copyOf(excludeUsers);
        excludeNames = List.copyOf(excludeNames);
        excludePaths = List.copyOf(excludePaths);
        Objects.requireNonNull(pollInterval, "pollInterval");
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
    }

    /** Settings with the defaults for everything but the server, and a spool in memory (handy in tests). */
    public static AgentConfig of(URI serverUrl, String token, Path caFile) {
        return new AgentConfig(serverUrl, token, caFile, DEFAULT_PROCESSES, DEFAULT_POLL_INTERVAL,
                DEFAULT_EXCLUDE_USERS, false, null, null, null, List.of(), List.of(),
                (long) (DEFAULT_SPOOL_MAX_MB * MB), DEFAULT_HEARTBEAT_INTERVAL, null);
    }

    public AgentConfig withProcesses(List<String> names) {
        return new AgentConfig(serverUrl, token, caFile, names, pollInterval, excludeUsers, reportExisting,
                spoolDir, logDir, logstash, excludeNames, excludePaths, spoolMaxBytes, heartbeatInterval, enrollmentToken);
    }

    public AgentConfig withPollInterval(Duration interval) {
        return new AgentConfig(serverUrl, token, caFile, processes, interval, excludeUsers, reportExisting,
                spoolDir, logDir, logstash, excludeNames, excludePaths, spoolMaxBytes, heartbeatInterval, enrollmentToken);
    }

    public AgentConfig withSpool(Path dir, long maxBytes) {
        return new AgentConfig(serverUrl, token, caFile, processes, pollInterval, excludeUsers, reportExisting,
                dir, logDir, logstash, excludeNames, excludePaths, maxBytes, heartbeatInterval, enrollmentToken);
    }

    public AgentConfig withReportExisting(boolean report) {
        return new AgentConfig(serverUrl, token, caFile, processes, pollInterval, excludeUsers, report,
                spoolDir, logDir, logstash, excludeNames, excludePaths, spoolMaxBytes, heartbeatInterval, enrollmentToken);
    }

    public AgentConfig withHeartbeatInterval(Duration interval) {
        return new AgentConfig(serverUrl, token, caFile, processes, pollInterval, excludeUsers, reportExisting,
                spoolDir, logDir, logstash, excludeNames, excludePaths, spoolMaxBytes, interval, enrollmentToken);
    }

    /**
     * Reads, validates and returns the settings of {@code file}; creates the spool and log directories (private
     * to the agent's user when they are new, see {@link PrivateFiles}).
     */
    public static AgentConfig load(Path file) throws ConfigException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("--config " + file + ": file not found");
        } catch (IOException e) {
            throw new ConfigException("--config " + file + ": cannot read: " + e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException("--config " + file + ": not UTF-8 text");
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(text, dir);
    }

    /** Parses INI text; relative paths are resolved against {@code baseDir}. */
    public static AgentConfig parse(String text, Path baseDir) throws ConfigException {
        if (text.startsWith("\uFEFF")) { // Notepad's UTF-8 byte order mark
            text = text.substring(1);
        }
        Ini ini = new Ini();
        Config config = new Config();
        config.setEscape(false);       // C:\dozor\ca.pem must stay as written
        config.setMultiOption(false);  // a repeated key: the last one wins
        config.setMultiSection(false);
        config.setEmptyOption(true);
        ini.setConfig(config);
        try {
            ini.load(new StringReader(text));
        } catch (InvalidFileFormatException e) {
            throw new ConfigException("--config: not a valid INI file: " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigException("--config: cannot parse: " + e.getMessage(), e);
        }
        Reader r = new Reader(ini);
        r.rejectUnknown();

        URI url = r.url();
        String token = r.optional("server", "token");
        String enrollmentToken = r.optional("server", "enrollment_token");
        if (token != null && token.isEmpty()) {
            token = null;
        }
        if (enrollmentToken != null && enrollmentToken.isEmpty()) {
            enrollmentToken = null;
        }
        if (token == null && enrollmentToken == null) {
            throw ConfigException.of("server", "token", "missing (set token, or enrollment_token for the agent to"
                    + " enrol itself)");
        }
        if (token != null && enrollmentToken != null) {
            throw ConfigException.of("server", "enrollment_token", "set together with token: keep only one");
        }
        for (String key : List.of("token", "enrollment_token")) {
            String value = key.equals("token") ? token : enrollmentToken;
            if (value != null && value.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
                throw ConfigException.of("server", key, "must not contain spaces or control characters");
            }
        }
        if (enrollmentToken != null && baseDir == null && r.optional("spool", "dir") == null) {
            throw ConfigException.of("spool", "dir", "missing: an enrolled agent keeps its credential there");
        }
        Path caFile = r.caFile(url, baseDir);
        Duration heartbeat = Duration.ofSeconds(r.positiveLong("server", "heartbeat_interval_s",
                DEFAULT_HEARTBEAT_INTERVAL.toSeconds()));

        List<String> processes = r.list("monitor", "processes", DEFAULT_PROCESSES);
        if (processes.isEmpty()) {
            throw ConfigException.of("monitor", "processes", "must name at least one process");
        }
        Duration poll = r.positiveMillis("monitor", "poll_interval_ms", DEFAULT_POLL_INTERVAL);
        List<String> exclude = r.list("monitor", "exclude_users", DEFAULT_EXCLUDE_USERS);
        boolean reportExisting = r.bool("monitor", "report_existing", false);
        List<String> excludeNames = r.list("monitor", "exclude_names", List.of());
        List<String> excludePaths = r.list("monitor", "exclude_paths", List.of());
        Path spool = r.directory("spool", "dir", baseDir);
        if (spool == null && baseDir != null) { // durable by default: next to the INI file
            spool = r.directory(baseDir.resolve("spool"));
        }
        long spoolMax = r.positiveMegabytes("spool", "max_mb", DEFAULT_SPOOL_MAX_MB);
        Path log = r.directory("log", "dir", baseDir);
        String logstash = r.hostPort("log", "logstash");
        // last, so that a test INI with an http:// url still reports its other mistakes
        boolean insecureAllowed = r.bool("server", "allow_insecure_http", false);
        if (url.getScheme().equalsIgnoreCase("http") && !insecureAllowed) {
            throw ConfigException.of("server", "url", "http:// sends the token and the events unencrypted; use "
                    + "https:// with ca_file, or set [server] allow_insecure_http = true (tests only)");
        }
        return new AgentConfig(url, token, caFile, processes, poll, exclude, reportExisting, spool, log, logstash,
                excludeNames, excludePaths, spoolMax, heartbeat, enrollmentToken);
    }

    @Override
    public String toString() {
        return "AgentConfig[serverUrl=" + serverUrl + (token != null ? ", token=***" : ", enrollmentToken=***")
                + ", caFile=" + caFile
                + ", processes=" + processes + ", pollInterval=" + pollInterval
                + ", excludeUsers=" + excludeUsers + ", reportExisting=" + reportExisting
                + ", spoolDir=" + spoolDir + ", logDir=" + logDir + ", logstash=" + logstash + ", excludeNames=" + excludeNames
                + ", excludePaths=" + excludePaths + ", spoolMaxBytes=" + spoolMaxBytes
                + ", heartbeatInterval=" + heartbeatInterval + "]";
    }

    /** Typed access to the raw INI values, each failure naming its setting. */
    private record Reader(Ini ini) {

        void rejectUnknown() throws ConfigException {
            for (String section : ini.keySet()) {
                Set<String> keys = KNOWN_KEYS.get(section);
                if (keys == null) {
                    throw new ConfigException("[" + section + "]: unknown section (expected one of "
                            + "[server], [monitor], [spool], [log])");
                }
                for (String key : ini.get(section).keySet()) {
                    if (!keys.contains(key)) {
                        throw ConfigException.of(section, key, "unknown setting");
                    }
                }
            }
        }

        /** The value without its trailing comment, trimmed; null when absent. */
        String optional(String section, String key) {
            Profile.Section s = ini.get(section);
            String raw = s == null ? null : s.get(key);
            return raw == null ? null : stripComment(raw);
        }

        String required(String section, String key) throws ConfigException {
            String value = optional(section, key);
            if (value == null || value.isEmpty()) {
                throw ConfigException.of(section, key, "missing");
            }
            return value;
        }

        URI url() throws ConfigException {
            String value = required("server", "url");
            String problem = "must be an http:// or https:// URL, got \"" + value + "\"";
            URI uri;
            try {
                uri = new URI(value);
            } catch (URISyntaxException e) {
                throw ConfigException.of("server", "url", problem);
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null
                    || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
                throw ConfigException.of("server", "url", problem);
            }
            String s = uri.toString();
            while (s.endsWith("/")) {
                s = s.substring(0, s.length() - 1);
            }
            return URI.create(s);
        }

        Path caFile(URI url, Path baseDir) throws ConfigException {
            String value = optional("server", "ca_file");
            boolean https = url.getScheme().equalsIgnoreCase("https");
            if (value == null || value.isEmpty()) {
                if (https) {
                    throw ConfigException.of("server", "ca_file", "missing (required for an https url)");
                }
                return null;
            }
            Path file = path("server", "ca_file", value, baseDir);
            if (!Files.isRegularFile(file)) {
                throw ConfigException.of("server", "ca_file", "file not found: " + file);
            }
            String noCertificate = "no valid PEM certificate in " + file;
            try {
                if (Pem.readCertificates(file).isEmpty()) {
                    throw ConfigException.of("server", "ca_file", noCertificate);
                }
            } catch (CertificateException e) {
                throw ConfigException.of("server", "ca_file", noCertificate);
            } catch (IOException e) {
                throw ConfigException.of("server", "ca_file", "cannot read " + file + ": " + e);
            }
            return file;
        }

        List<String> list(String section, String key, List<String> defaults) {
            String value = optional(section, key);
            if (value == null) {
                return defaults;
            }
            return Arrays.stream(value.split(","))
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .toList();
        }

        Duration positiveMillis(String section, String key, Duration defaultValue) throws ConfigException {
            return Duration.ofMillis(positiveLong(section, key, defaultValue.toMillis()));
        }

        long positiveLong(String section, String key, long defaultValue) throws ConfigException {
            String value = optional(section, key);
            if (value == null) {
                return defaultValue;
            }
            try {
                long n = Long.parseLong(value);
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw ConfigException.of(section, key, "must be a positive integer, got \"" + value + "\"");
        }

        /** A positive number of megabytes ({@code 64}, {@code 0.5}) as bytes, at least 1 KiB. */
        long positiveMegabytes(String section, String key, double defaultValue) throws ConfigException {
            String value = optional(section, key);
            if (value == null) {
                return (long) (defaultValue * MB);
            }
            try {
                double mb = Double.parseDouble(value);
                if (Double.isFinite(mb) && mb * MB >= 1024 && mb <= 1_000_000 && !value.matches(".*[a-zA-Z].*")) {
                    return (long) (mb * MB);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw ConfigException.of(section, key,
                    "must be a number of megabytes between 0.001 and 1000000, got \"" + value + "\"");
        }

        boolean bool(String section, String key, boolean defaultValue) throws ConfigException {
            String value = optional(section, key);
            if (value == null) {
                return defaultValue;
            }
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on", "1" -> true;
                case "false", "no", "off", "0" -> false;
                default -> throw ConfigException.of(section, key, "must be true or false, got \"" + value + "\"");
            };
        }

        String hostPort(String section, String key) throws ConfigException {
            String value = optional(section, key);
            if (value == null || value.isEmpty()) {
                return null;
            }
            int colon = value.lastIndexOf(':');
            String host = colon > 0 ? value.substring(0, colon) : "";
            String port = colon > 0 ? value.substring(colon + 1) : "";
            if (!host.matches("[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+]") || !port.matches("[0-9]{1,5}")
                    || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                throw ConfigException.of(section, key,
                        "must be host:port of Logstash's tcp input, got \"" + value + "\"");
            }
            return value;
        }

        Path directory(String section, String key, Path baseDir) throws ConfigException {
            String value = optional(section, key);
            if (value == null || value.isEmpty()) {
                return null;
            }
            return createDirectory(section, key, path(section, key, value, baseDir));
        }

        /** The default spool directory (no key given): errors name {@code [spool] dir}. */
        Path directory(Path dir) throws ConfigException {
            return createDirectory("spool", "dir", dir);
        }

        private static Path createDirectory(String section, String key, Path dir) throws ConfigException {
            try {
                PrivateFiles.createDirectories(dir);
            } catch (IOException e) {
                throw ConfigException.of(section, key, "cannot create directory " + dir + ": " + e);
            }
            return dir;
        }

        private static Path path(String section, String key, String value, Path baseDir) throws ConfigException {
            try {
                Path p = Path.of(value);
                return (baseDir == null ? p : baseDir.resolve(p)).normalize();
            } catch (InvalidPathException e) {
                throw ConfigException.of(section, key, "not a valid path: \"" + value + "\"");
            }
        }

        private static String stripComment(String raw) {
            for (int i = 1; i < raw.length(); i++) {
                char c = raw.charAt(i);
                if ((c == ';' || c == '#') && Character.isWhitespace(raw.charAt(i - 1))) {
                    return raw.substring(0, i).trim();
                }
            }
            String trimmed = raw.trim();
            return trimmed.startsWith(";") || trimmed.startsWith("#") ? "" : trimmed;
        }
    }
}
