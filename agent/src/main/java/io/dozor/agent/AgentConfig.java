package io.dozor.agent;

import io.dozor.common.PrivateFiles;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The agent's settings, read once from an INI file (docs/agent-settings.md); {@link #SETTINGS} declares each one.
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

    /**
     * Every INI setting, in the order they are read and checked: the first bad one is reported, so the
     * credentials come right after the url, and {@code allow_insecure_http} comes last for a test INI with an
     * http:// url to report its other mistakes first. Their docs are the rows of docs/agent-settings.md
     * (ReferenceDocsTest).
     */
    static final List<Setting> SETTINGS = List.of(
            Setting.withoutDefault(
                    "server",
                    "url",
                    "none: required",
                    "base URL of the server, `https://host:port`; no query, fragment or user part. `http://` is"
                            + " refused unless `allow_insecure_http = true`",
                    (v, b) -> b.serverUrl(url(v))),
            Setting.withoutDefault(
                    "server",
                    "token",
                    "none: this or `enrollment_token`",
                    "the agent's token, from `dozor-server token create --agent-id ID`; the server stores this PC's"
                            + " events under `ID`. It expires (`token list` says when; default 90 days)",
                    (v, b) -> b.token(token(v))),
            Setting.withoutDefault(
                    "server",
                    "enrollment_token",
                    "none: this or `token`",
                    "instead of `token`, the same value on every PC: an enrollment token from `dozor-server"
                            + " enrollment create`. At its first start the agent enrols (`POST /api/v1/enroll` with"
                            + " its host name, OS and a random enrollment key, saved in the file below before the"
                            + " first attempt, so a retry after a lost answer is the same enrolment and spends no"
                            + " second use), gets its own agent id (the host name; `NAME-2`, … when that id"
                            + " is taken) and keeps its own credential in `[spool] dir`, file `credential`: on"
                            + " Windows encrypted with DPAPI in machine scope (readable on this PC only), elsewhere a"
                            + " file readable by the agent's user only (0600). It renews its short-lived access token"
                            + " itself, also after a time offline. With the file lost it enrols again (as a new id)"
                            + " while the enrollment token is valid; a revoked agent never enrols again by itself:"
                            + " delete the file to let it",
                    (v, b) -> b.enrollmentToken(enrollmentToken(v))),
            Setting.withoutDefault(
                    "server",
                    "ca_file",
                    "none: required for an `https` url",
                    "PEM file of the certificate authority (or of the server's certificate) to trust; nothing else"
                            + " is trusted",
                    (v, b) -> b.caFile(caFile(v, b.serverUrl))),
            Setting.of(
                    "server",
                    "heartbeat_interval_s",
                    Long.toString(DEFAULT_HEARTBEAT_INTERVAL.toSeconds()),
                    "seconds between two heartbeats (`POST /api/v1/heartbeat`: version, host name, spool depth,"
                            + " dropped and unpersisted events, spool error); after a failed one the wait doubles,"
                            + " up to 10 times this (at most 10 minutes), and a longer `Retry-After` is waited out",
                    (v, b) -> b.heartbeatInterval(Duration.ofSeconds(v.positiveLong()))),
            Setting.of(
                    "monitor",
                    "processes",
                    String.join(", ", DEFAULT_PROCESSES),
                    "watched program names, `.exe` optional: Chrome, Yandex Browser, Telegram Desktop, Explorer."
                            + " At least one",
                    (v, b) -> b.processes(processes(v))),
            Setting.of(
                    "monitor",
                    "poll_interval_ms",
                    Long.toString(DEFAULT_POLL_INTERVAL.toMillis()),
                    "milliseconds between two process snapshots; a program that runs for less than this may be"
                            + " missed",
                    (v, b) -> b.pollInterval(Duration.ofMillis(v.positiveLong()))),
            Setting.of(
                    "monitor",
                    "exclude_users",
                    String.join(", ", DEFAULT_EXCLUDE_USERS),
                    "users whose launches are not reported (domain prefix ignored). Session 0, `SYSTEM`, `LOCAL"
                            + " SERVICE` and `NETWORK SERVICE` are never reported, whatever this says",
                    (v, b) -> b.excludeUsers(v.list())),
            Setting.of(
                    "monitor",
                    "report_existing",
                    "false",
                    "`true`: the watched programs already running when the agent starts are reported too; the"
                            + " spool remembers what it reported, so a restart does not report them again",
                    (v, b) -> b.reportExisting(v.bool())),
            Setting.of(
                    "monitor",
                    "exclude_names",
                    "",
                    "program names never reported, even when in `processes`",
                    (v, b) -> b.excludeNames(v.list())),
            Setting.of(
                    "monitor",
                    "exclude_paths",
                    "",
                    "executables in these folders (or these exact files) are never reported, e.g. `C:\\Program"
                            + " Files\\Kiosk\\`",
                    (v, b) -> b.excludePaths(v.list())),
            Setting.withoutDefault(
                    "spool",
                    "dir",
                    "`spool` beside the INI file",
                    "directory of the durable queue `spool.db` (SQLite): events wait here until the server stored"
                            + " them, through restarts, kill and power loss",
                    (v, b) -> b.spoolDir(spoolDir(v))),
            Setting.of(
                    "spool",
                    "max_mb",
                    BigDecimal.valueOf(DEFAULT_SPOOL_MAX_MB)
                            .stripTrailingZeros()
                            .toPlainString(),
                    "bound of the queue in megabytes of events (fractions allowed, 0.001 to 1000000): beyond it the"
                            + " oldest events are dropped, each logged, and the count is sent in the heartbeat"
                            + " (`dropped_events`)",
                    (v, b) -> b.spoolMaxBytes(v.megabytes())),
            Setting.withoutDefault(
                    "log",
                    "dir",
                    "`logs` in the working directory (set it for a service)",
                    "directory of `dozor-agent.json` (every line) and `dozor-agent-errors.json` (WARN and ERROR),"
                            + " JSON lines, rotated",
                    (v, b) -> b.logDir(v.directory())),
            Setting.withoutDefault(
                    "log",
                    "logstash",
                    "none: no Logstash output",
                    "`host:port` of a Logstash `tcp` input (`json_lines`) that also gets the log lines",
                    (v, b) -> b.logstash(v.hostPort("Logstash's tcp input"))),
            Setting.of(
                    "server",
                    "allow_insecure_http",
                    "false",
                    "`true`: accept an `http://` url (tests, or a TLS proxy on the same machine); the token and the"
                            + " events then cross the network unencrypted, and the agent logs a warning at every"
                            + " start. Without it an `http://` url stops the agent: `dozor-agent: [server] url:"
                            + " http:// sends the token and the events unencrypted; ...`",
                    (v, b) -> requireHttpsUnlessAllowed(v, b.serverUrl)));

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

    /**
     * Settings with the defaults of the INI file for everything but the server and its credential, and a spool in
     * memory (handy in tests).
     */
    public static Builder builder() {
        return new Builder();
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
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException("--config " + file + ": not UTF-8 text");
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(text, dir);
    }

    /** Parses INI text; relative paths are resolved against {@code baseDir}. */
    public static AgentConfig parse(String text, Path baseDir) throws ConfigException {
        return Setting.load(SETTINGS, text, baseDir).build();
    }

    private static URI url(Setting.Value v) throws ConfigException {
        String value = v.required();
        String problem = "must be an http:// or https:// URL, got \"" + value + "\"";
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw v.invalid(problem);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")
                || uri.getHost() == null
                || uri.getRawQuery() != null
                || uri.getRawFragment() != null
                || uri.getRawUserInfo() != null) {
            throw v.invalid(problem);
        }
        String s = uri.toString();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return URI.create(s);
    }

    /** The token; exactly one of it and the enrollment token is set (an empty one counts as not set). */
    private static String token(Setting.Value v) throws ConfigException {
        String enrollmentToken = v.other("server", "enrollment_token");
        boolean enrolling = enrollmentToken != null && !enrollmentToken.isEmpty();
        if (v.orNull() == null && !enrolling) {
            throw v.invalid("missing (set token, or enrollment_token for the agent to enrol itself)");
        }
        if (v.orNull() != null && enrolling) {
            throw ConfigException.of("server", "enrollment_token", "set together with token: keep only one");
        }
        return credential(v);
    }

    /** The enrollment token; an enrolled agent keeps its credential in {@code [spool] dir}, which it then needs. */
    private static String enrollmentToken(Setting.Value v) throws ConfigException {
        String enrollmentToken = credential(v);
        if (enrollmentToken != null && v.baseDir() == null && v.other("spool", "dir") == null) {
            throw ConfigException.of("spool", "dir", "missing: an enrolled agent keeps its credential there");
        }
        return enrollmentToken;
    }

    private static String credential(Setting.Value v) throws ConfigException {
        String value = v.orNull();
        if (value != null && value.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
            throw v.invalid("must not contain spaces or control characters");
        }
        return value;
    }

    private static Path caFile(Setting.Value v, URI url) throws ConfigException {
        Path file = v.path();
        if (file == null) {
            if (url.getScheme().equalsIgnoreCase("https")) {
                throw v.invalid("missing (required for an https url)");
            }
            return null;
        }
        if (!Files.isRegularFile(file)) {
            throw v.invalid("file not found: " + file);
        }
        String noCertificate = "no valid PEM certificate in " + file;
        try {
            if (Pem.readCertificates(file).isEmpty()) {
                throw v.invalid(noCertificate);
            }
        } catch (CertificateException e) {
            throw v.invalid(noCertificate);
        } catch (IOException e) {
            throw v.invalid("cannot read " + file + ": " + e);
        }
        return file;
    }

    private static List<String> processes(Setting.Value v) throws ConfigException {
        List<String> processes = v.list();
        if (processes.isEmpty()) {
            throw v.invalid("must name at least one process");
        }
        return processes;
    }

    /** {@code [spool] dir}, by default {@code spool} beside the INI file (none, a spool in memory, without one). */
    private static Path spoolDir(Setting.Value v) throws ConfigException {
        Path dir = v.directory();
        if (dir == null && v.baseDir() != null) {
            dir = v.createDirectory(v.baseDir().resolve("spool"));
        }
        return dir;
    }

    private static void requireHttpsUnlessAllowed(Setting.Value v, URI url) throws ConfigException {
        boolean allowed = v.bool();
        if (url.getScheme().equalsIgnoreCase("http") && !allowed) {
            throw ConfigException.of(
                    "server",
                    "url",
                    "http:// sends the token and the events unencrypted; use "
                            + "https:// with ca_file, or set [server] allow_insecure_http = true (tests only)");
        }
    }

    @Override
    public String toString() {
        return "AgentConfig[serverUrl=" + serverUrl + (token != null ? ", token=***" : ", enrollmentToken=***")
                + ", caFile=" + caFile
                + ", processes=" + processes + ", pollInterval=" + pollInterval
                + ", excludeUsers=" + excludeUsers + ", reportExisting=" + reportExisting
                + ", spoolDir=" + spoolDir + ", logDir=" + logDir + ", logstash=" + logstash + ", excludeNames="
                + excludeNames
                + ", excludePaths=" + excludePaths + ", spoolMaxBytes=" + spoolMaxBytes
                + ", heartbeatInterval=" + heartbeatInterval + "]";
    }

    /**
     * Builds an {@link AgentConfig}; starts from the defaults of the INI file, with a spool in memory. The server url
     * and exactly one of the token and the enrollment token must be set.
     */
    public static final class Builder {
        private URI serverUrl;
        private String token;
        private String enrollmentToken;
        private Path caFile;
        private List<String> processes = DEFAULT_PROCESSES;
        private Duration pollInterval = DEFAULT_POLL_INTERVAL;
        private List<String> excludeUsers = DEFAULT_EXCLUDE_USERS;
        private boolean reportExisting;
        private Path spoolDir;
        private Path logDir;
        private String logstash;
        private List<String> excludeNames = List.of();
        private List<String> excludePaths = List.of();
        private long spoolMaxBytes = (long) (DEFAULT_SPOOL_MAX_MB * MB);
        private Duration heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;

        private Builder() {}

        public Builder serverUrl(URI url) {
            this.serverUrl = url;
            return this;
        }

        public Builder token(String token) {
            this.token = token;
            return this;
        }

        public Builder enrollmentToken(String enrollmentToken) {
            this.enrollmentToken = enrollmentToken;
            return this;
        }

        public Builder caFile(Path file) {
            this.caFile = file;
            return this;
        }

        public Builder processes(List<String> names) {
            this.processes = names;
            return this;
        }

        public Builder pollInterval(Duration interval) {
            this.pollInterval = interval;
            return this;
        }

        public Builder excludeUsers(List<String> users) {
            this.excludeUsers = users;
            return this;
        }

        public Builder reportExisting(boolean report) {
            this.reportExisting = report;
            return this;
        }

        public Builder spoolDir(Path dir) {
            this.spoolDir = dir;
            return this;
        }

        public Builder logDir(Path dir) {
            this.logDir = dir;
            return this;
        }

        public Builder logstash(String hostPort) {
            this.logstash = hostPort;
            return this;
        }

        public Builder excludeNames(List<String> names) {
            this.excludeNames = names;
            return this;
        }

        public Builder excludePaths(List<String> paths) {
            this.excludePaths = paths;
            return this;
        }

        public Builder spoolMaxBytes(long maxBytes) {
            this.spoolMaxBytes = maxBytes;
            return this;
        }

        public Builder heartbeatInterval(Duration interval) {
            this.heartbeatInterval = interval;
            return this;
        }

        public AgentConfig build() {
            return new AgentConfig(
                    serverUrl,
                    token,
                    caFile,
                    processes,
                    pollInterval,
                    excludeUsers,
                    reportExisting,
                    spoolDir,
                    logDir,
                    logstash,
                    excludeNames,
                    excludePaths,
                    spoolMaxBytes,
                    heartbeatInterval,
                    enrollmentToken);
        }
    }
}
