package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentConfigTest {

    @TempDir
    Path dir;

    @BeforeEach
    void copyCertificate() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/tls/server.pem")) {
            Files.copy(in, dir.resolve("ca.pem"));
        }
    }

    private AgentConfig parse(String ini) throws ConfigException {
        return AgentConfig.parse(ini, dir);
    }

    private static final String SERVER = """
            [server]
            url = http://server:8080
            token = abc123
            allow_insecure_http = true
            """;

    @Test
    void readsEverySettingOfTheContractExample() throws Exception {
        AgentConfig config = parse("""
                [server]
                url = https://server:8443/
                token = tok-123
                ca_file = ca.pem

                [monitor]
                processes = chrome, browser.exe , Telegram   ; names, case-insensitive, ".exe" optional
                poll_interval_ms = 250
                exclude_users = SYSTEM, NT AUTHORITY\\LOCAL SERVICE
                report_existing = true

                [spool]
                dir = spool

                [log]
                dir = logs
                """);

        assertThat(config.serverUrl()).isEqualTo(URI.create("https://server:8443"));
        assertThat(config.token()).isEqualTo("tok-123");
        assertThat(config.caFile()).isEqualTo(dir.resolve("ca.pem"));
        assertThat(config.processes()).containsExactly("chrome", "browser.exe", "Telegram");
        assertThat(config.pollInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.excludeUsers()).containsExactly("SYSTEM", "NT AUTHORITY\\LOCAL SERVICE");
        assertThat(config.reportExisting()).isTrue();
        assertThat(config.spoolDir()).isEqualTo(dir.resolve("spool")).isDirectory();
        assertThat(config.logDir()).isEqualTo(dir.resolve("logs"));
    }

    @Test
    void appliesTheDefaultsWhenOnlyTheServerIsGiven() throws Exception {
        AgentConfig config = parse(SERVER);

        assertThat(config.processes()).containsExactly("chrome", "browser", "telegram", "explorer");
        assertThat(config.pollInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.excludeUsers()).containsExactly("SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE");
        assertThat(config.reportExisting()).isFalse();
        assertThat(config.caFile()).isNull();
        assertThat(config.spoolDir()).isEqualTo(dir.resolve("spool")).isDirectory();
        assertThat(config.spoolMaxBytes()).isEqualTo(64L * 1024 * 1024);
        assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.excludeNames()).isEmpty();
        assertThat(config.excludePaths()).isEmpty();
        assertThat(config.logDir()).isNull();
    }

    @Test
    void readsTheExclusionsTheSpoolBoundAndTheHeartbeatInterval() throws Exception {
        AgentConfig config = parse("""
                [server]
                url = http://server:8080
                token = abc123
                heartbeat_interval_s = 15
                allow_insecure_http = yes

                [monitor]
                exclude_names = explorer, Updater.exe
                exclude_paths = C:\\Windows\\, C:\\Program Files\\Admin Tools

                [spool]
                max_mb = 0.5
                """);

        assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(15));
        assertThat(config.excludeNames()).containsExactly("explorer", "Updater.exe");
        assertThat(config.excludePaths()).containsExactly("C:\\Windows\\", "C:\\Program Files\\Admin Tools");
        assertThat(config.spoolMaxBytes()).isEqualTo(512L * 1024);
    }

    @Test
    void keepsBackslashesOfWindowsPathsLiterally() throws Exception {
        AgentConfig config = parse(SERVER + "[monitor]\nexclude_users = NT AUTHORITY\\SYSTEM, DOM\\n.ivanov\n");

        assertThat(config.excludeUsers()).containsExactly("NT AUTHORITY\\SYSTEM", "DOM\\n.ivanov");
    }

    @Test
    void anEmptyExcludeListExcludesNobody() throws Exception {
        assertThat(parse(SERVER + "[monitor]\nexclude_users =\n").excludeUsers())
                .isEmpty();
    }

    @Test
    void acceptsAFileSavedWithAUtf8ByteOrderMark() throws Exception {
        Path file = dir.resolve("agent.ini");
        Files.writeString(file, "\uFEFF" + SERVER, StandardCharsets.UTF_8);

        assertThat(AgentConfig.load(file).token()).isEqualTo("abc123");
    }

    @Test
    void resolvesRelativePathsAgainstTheDirectoryOfTheIniFile() throws Exception {
        Path file = dir.resolve("agent.ini");
        Files.writeString(file, """
                [server]
                url = https://localhost:8443
                token = t
                ca_file = ca.pem
                """);

        assertThat(AgentConfig.load(file).caFile()).isEqualTo(dir.resolve("ca.pem"));
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("nope.ini");

        assertThatThrownBy(() -> AgentConfig.load(missing))
                .isInstanceOf(ConfigException.class)
                .hasMessage("--config " + missing + ": file not found");
    }

    @Test
    void neverShowsTheTokenInToString() throws Exception {
        assertThat(parse(SERVER).toString()).doesNotContain("abc123").contains("token=***");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            missing [server] section    | [monitor]\\npoll_interval_ms = 5                       | [server] url: missing
            missing url                 | [server]\\ntoken = t                                   | [server] url: missing
            empty url                   | [server]\\nurl =\\ntoken = t                           | [server] url: missing
            url without scheme          | [server]\\nurl = server:8443\\ntoken = t               | [server] url: must be an http:// or https:// URL, got "server:8443"
            ftp url                     | [server]\\nurl = ftp://server\\ntoken = t              | [server] url: must be an http:// or https:// URL, got "ftp://server"
            url with spaces             | [server]\\nurl = http://a b\\ntoken = t                | [server] url: must be an http:// or https:// URL, got "http://a b"
            url with a query            | [server]\\nurl = http://a/?x=1\\ntoken = t             | [server] url: must be an http:// or https:// URL, got "http://a/?x=1"
            url with a fragment         | [server]\\nurl = http://a/#top\\ntoken = t            | [server] url: must be an http:// or https:// URL, got "http://a/#top"
            url with a user             | [server]\\nurl = http://me@a\\ntoken = t              | [server] url: must be an http:// or https:// URL, got "http://me@a"
            missing token               | [server]\\nurl = http://a                              | [server] token: missing (set token, or enrollment_token for the agent to enrol itself)
            token and enrollment_token  | [server]\\nurl = http://a\\ntoken = t\\nenrollment_token = e | [server] enrollment_token: set together with token: keep only one
            enrollment_token with space | [server]\\nurl = http://a\\nenrollment_token = a b     | [server] enrollment_token: must not contain spaces or control characters
            empty enrollment_token      | [server]\\nurl = http://a\\nenrollment_token =        | [server] token: missing (set token, or enrollment_token for the agent to enrol itself)
            token with a space          | [server]\\nurl = http://a\\ntoken = a b                | [server] token: must not contain spaces or control characters
            https without ca_file       | [server]\\nurl = https://a\\ntoken = t                 | [server] ca_file: missing (required for an https url)
            ca_file not a certificate   | [server]\\nurl = https://a\\ntoken = t\\nca_file = x.txt | [server] ca_file: no valid PEM certificate in {dir}/x.txt
            letters as poll interval    | %s[monitor]\\npoll_interval_ms = abc                   | [monitor] poll_interval_ms: must be a positive integer, got "abc"
            zero poll interval          | %s[monitor]\\npoll_interval_ms = 0                     | [monitor] poll_interval_ms: must be a positive integer, got "0"
            negative poll interval      | %s[monitor]\\npoll_interval_ms = -5                    | [monitor] poll_interval_ms: must be a positive integer, got "-5"
            fractional poll interval    | %s[monitor]\\npoll_interval_ms = 1.5                   | [monitor] poll_interval_ms: must be a positive integer, got "1.5"
            no process to watch         | %s[monitor]\\nprocesses = ,                            | [monitor] processes: must name at least one process
            bad report_existing         | %s[monitor]\\nreport_existing = maybe                  | [monitor] report_existing: must be true or false, got "maybe"
            letters as max_mb           | %s[spool]\\nmax_mb = lots                            | [spool] max_mb: must be a number of megabytes between 0.001 and 1000000, got "lots"
            zero max_mb                 | %s[spool]\\nmax_mb = 0                               | [spool] max_mb: must be a number of megabytes between 0.001 and 1000000, got "0"
            negative max_mb             | %s[spool]\\nmax_mb = -1                              | [spool] max_mb: must be a number of megabytes between 0.001 and 1000000, got "-1"
            tiny max_mb                 | %s[spool]\\nmax_mb = 0.0001                          | [spool] max_mb: must be a number of megabytes between 0.001 and 1000000, got "0.0001"
            huge max_mb                 | %s[spool]\\nmax_mb = 1e9                             | [spool] max_mb: must be a number of megabytes between 0.001 and 1000000, got "1e9"
            infinite max_mb             | %s[spool]\\nmax_mb = Infinity                        | [spool] max_mb: must be a number of megabytes between 0.001 and 1000000, got "Infinity"
            letters as heartbeat        | [server]\\nurl = http://a\\ntoken = t\\nheartbeat_interval_s = x   | [server] heartbeat_interval_s: must be a positive integer, got "x"
            zero heartbeat              | [server]\\nurl = http://a\\ntoken = t\\nheartbeat_interval_s = 0   | [server] heartbeat_interval_s: must be a positive integer, got "0"
            empty heartbeat             | [server]\\nurl = http://a\\ntoken = t\\nheartbeat_interval_s =    | [server] heartbeat_interval_s: must be a positive integer, got ""
            empty ca_file for https     | [server]\\nurl = https://a\\ntoken = t\\nca_file =        | [server] ca_file: missing (required for an https url)
            empty ca_file, no cert      | [server]\\nurl = https://a\\ntoken = t\\nca_file = empty.pem | [server] ca_file: no valid PEM certificate in {dir}/empty.pem
            misspelt server key         | [server]\\nurl = http://a\\ntoken = t\\ntokn = t          | [server] tokn: unknown setting
            key before any section      | url = http://a\\n[server]\\ntoken = t                 | --config: not a valid INI file: parse error (at line: 1): url = http://a
            misspelt spool key          | %s[spool]\\nmax_mbs = 5                              | [spool] max_mbs: unknown setting
            misspelt key                | %s[monitor]\\npoll_intervall_ms = 5                    | [monitor] poll_intervall_ms: unknown setting
            unknown section             | %s[moniter]\\nprocesses = chrome                       | [moniter]: unknown section (expected one of [server], [monitor], [spool], [log])
            plain http                  | [server]\\nurl = http://a\\ntoken = t                    | [server] url: http:// sends the token and the events unencrypted; use https:// with ca_file, or set [server] allow_insecure_http = true (tests only)
            plain http, explicitly not  | [server]\\nurl = HTTP://a\\ntoken = t\\nallow_insecure_http = false | [server] url: http:// sends the token and the events unencrypted; use https:// with ca_file, or set [server] allow_insecure_http = true (tests only)
            bad allow_insecure_http     | [server]\\nurl = https://a\\ntoken = t\\nca_file = ca.pem\\nallow_insecure_http = maybe | [server] allow_insecure_http: must be true or false, got "maybe"
            """)
    void refusesABadSettingNamingIt(String what, String ini, String expected) throws IOException {
        Files.writeString(dir.resolve("x.txt"), "not a certificate");
        Files.writeString(dir.resolve("empty.pem"), "");
        String text = ini.replace("\\n", "\n").replace("%s", SERVER);

        assertThatThrownBy(() -> parse(text))
                .isInstanceOf(ConfigException.class)
                .hasMessage(expected.replace("{dir}", dir.toString()));
    }

    @Test
    void refusesACaFileThatDoesNotExist() {
        assertThatThrownBy(() -> parse("[server]\nurl = https://a\ntoken = t\nca_file = missing.pem\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("[server] ca_file: file not found: " + dir.resolve("missing.pem"));
    }

    @Test
    void theFirstBadSettingInReadingOrderIsTheOneReported() {
        // the credentials before ca_file, ca_file before [monitor], a bad allow_insecure_http and a plain http url
        // after everything else
        assertThatThrownBy(() -> parse("[server]\nurl = https://a\nca_file = missing.pem\n"))
                .hasMessage("[server] token: missing (set token, or enrollment_token for the agent to enrol itself)");
        assertThatThrownBy(() -> parse("[server]\nurl = https://a\ntoken = a b\nenrollment_token = e\n"))
                .hasMessage("[server] enrollment_token: set together with token: keep only one");
        assertThatThrownBy(() -> parse("[monitor]\npoll_interval_ms = 0\n[server]\nurl = https://a\ntoken = t\n"))
                .hasMessage("[server] ca_file: missing (required for an https url)");
        assertThatThrownBy(() -> parse(
                        "[server]\nurl = http://a\ntoken = t\nallow_insecure_http = maybe\n[log]\nlogstash = x\n"))
                .hasMessage("[log] logstash: must be host:port of Logstash's tcp input, got \"x\"");
        assertThatThrownBy(() -> parse("[server]\nurl = http://a\ntoken = t\n[spool]\nmax_mb = 0\n"))
                .hasMessageStartingWith("[spool] max_mb: ");
    }

    @Test
    void anEnrolledAgentWithoutABaseDirectoryNeedsASpoolDir() throws Exception {
        String enrolled = "[server]\nurl = http://a\nenrollment_token = e\nallow_insecure_http = true\n";

        assertThatThrownBy(() -> AgentConfig.parse(enrolled, null))
                .isInstanceOf(ConfigException.class)
                .hasMessage("[spool] dir: missing: an enrolled agent keeps its credential there");
        AgentConfig config = AgentConfig.parse(enrolled + "[spool]\ndir = " + dir.resolve("spool") + "\n", null);
        assertThat(config.enrollmentToken()).isEqualTo("e");
        assertThat(config.token()).isNull();
        assertThat(config.spoolDir()).isEqualTo(dir.resolve("spool")).isDirectory();
        assertThat(config.toString()).contains("enrollmentToken=***");
    }

    @Test
    void withoutABaseDirectoryTheSpoolIsInMemory() throws Exception {
        assertThat(AgentConfig.parse(SERVER, null).spoolDir()).isNull();
    }

    @Test
    void refusesAFileThatIsNotUtf8() throws IOException {
        Path file = dir.resolve("agent.ini");
        Files.write(file, new byte[] {'[', 's', ']', '\n', (byte) 0xC3, (byte) 0x28, '\n'});

        assertThatThrownBy(() -> AgentConfig.load(file))
                .isInstanceOf(ConfigException.class)
                .hasMessage("--config " + file + ": not UTF-8 text");
    }

    @Test
    void theBuildersDefaultsAreTheIniDefaults() throws Exception {
        AgentConfig built = AgentConfig.builder()
                .serverUrl(URI.create("http://server:8080"))
                .token("abc123")
                .spoolDir(dir.resolve("spool"))
                .build();

        assertThat(parse(SERVER)).isEqualTo(built);
    }

    @Test
    void theBuilderNeedsTheServerAndExactlyOneCredential() {
        URI url = URI.create("https://a");
        assertThatThrownBy(() -> AgentConfig.builder().token("t").build()).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> AgentConfig.builder().serverUrl(url).build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AgentConfig.builder()
                        .serverUrl(url)
                        .token("t")
                        .enrollmentToken("e")
                        .build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(AgentConfig.builder()
                        .serverUrl(url)
                        .enrollmentToken("e")
                        .build()
                        .token())
                .isNull();
    }

    @ParameterizedTest(name = "[{0}] dir")
    @CsvSource({"spool, afile/sub", "log, afile/logs"})
    void refusesADirectoryThatCannotBeCreated(String section, String path) throws IOException {
        Files.writeString(dir.resolve("afile"), "x");

        assertThatThrownBy(() -> parse(SERVER + "[" + section + "]\ndir = " + path + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("[" + section + "] dir: cannot create directory " + dir.resolve(path));
    }

    @Test
    void theWatchListOfTheDefaultsIsTheContractOne() {
        assertThat(AgentConfig.DEFAULT_PROCESSES).isEqualTo(List.of("chrome", "browser", "telegram", "explorer"));
    }

    @Test
    void logstashIsOptionalAndTakesHostColonPort() throws Exception {
        assertThat(parse(SERVER).logstash()).isNull();
        assertThat(parse(SERVER + "[log]\nlogstash = logs.example.org:5000 ; tcp json_lines\n")
                        .logstash())
                .isEqualTo("logs.example.org:5000");
    }

    @Test
    void logstashWithoutAValidPortIsRefusedNamingTheKey() {
        for (String bad : List.of("logstash", "logstash:0", "logstash:70000", ":5000", "tcp://logstash:5000")) {
            assertThatThrownBy(() -> parse(SERVER + "[log]\nlogstash = " + bad + "\n"))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("logstash")
                    .hasMessageContaining("must be host:port");
        }
    }

    @Test
    void theTokenIsNeverPrinted() throws Exception {
        assertThat(parse(SERVER).toString()).doesNotContain("abc123").contains("token=***");
    }
}
