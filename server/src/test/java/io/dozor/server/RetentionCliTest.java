package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.config.ConfigLoader;
import io.dozor.server.config.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Verifies the retention settings and the command's bad input: exit 2 with one line naming the problem. */
class RetentionCliTest {
    static Map<String, String> env(String... pairs) {
        Map<String, String> env = new HashMap<>(Map.of(
                "DOZOR_HTTP_PLAIN", "true",
                "DOZOR_AUTH_TOKEN_SECRET", TestServer.SECRET,
                "DOZOR_POSTGRES_URL", "postgresql://postgres@127.0.0.1:1/none",
                "DOZOR_ELASTICSEARCH_URLS", "http://127.0.0.1:1",
                "DOZOR_LOG_DIR", System.getProperty("java.io.tmpdir") + "/dozor-retention-cli-logs"));
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }

    @Test
    void defaultsAre180DaysEveryHour() {
        ServerConfig.Retention r =
                new ConfigLoader(env()).load(Optional.empty()).retention();
        assertThat(r.days()).isEqualTo(180);
        assertThat(r.interval()).isEqualTo(Duration.ofHours(1));
        assertThat(new ConfigLoader(env("DOZOR_RETENTION_DAYS", "0"))
                        .load(Optional.empty())
                        .retention()
                        .keepsEverything())
                .isTrue();
    }

    @Test
    void theShippedSettingsFileSaysTheDefaults() {
        Path yaml = Path.of("..", "etc", "server.yaml");
        ServerConfig.Retention r = new ConfigLoader(env("DOZOR_HTTP_TLS_CERT", "", "DOZOR_HTTP_TLS_KEY", ""))
                .load(Optional.of(yaml))
                .retention();
        assertThat(r).isEqualTo(new ServerConfig.Retention(180, Duration.ofHours(1)));
    }

    @Test
    void badValuesExit2WithOneLineNamingTheSetting() {
        Map<String, String> cases = Map.of(
                "-1",
                        "dozor-server: retention.days (DOZOR_RETENTION_DAYS): must be between 0 (keep forever) and 36500, got -1\n",
                "36501",
                        "dozor-server: retention.days (DOZOR_RETENTION_DAYS): must be between 0 (keep forever) and 36500, got 36501\n",
                "6 months",
                        "dozor-server: retention.days (DOZOR_RETENTION_DAYS): must be a whole number, got \"6 months\"\n");
        cases.forEach((value, line) -> {
            MainTest.Result r = MainTest.run(env("DOZOR_RETENTION_DAYS", value), "retention", "--dry-run");
            assertThat(r.status()).as(value).isEqualTo(2);
            assertThat(r.err()).isEqualTo(line);
            assertThat(MainTest.run(env("DOZOR_RETENTION_DAYS", value), "run").status())
                    .isEqualTo(2);
        });
        for (String interval : new String[] {"0s", "hourly"}) {
            MainTest.Result r = MainTest.run(env("DOZOR_RETENTION_INTERVAL", interval), "retention");
            assertThat(r.status()).isEqualTo(2);
            assertThat(r.err())
                    .startsWith("dozor-server: retention.interval (DOZOR_RETENTION_INTERVAL): ")
                    .hasLineCount(1);
        }
    }

    @Test
    void unknownOptionsAndArgumentsAreUsageErrors() {
        for (String[] args : new String[][] {{"retention", "--dry"}, {"retention", "now"}}) {
            MainTest.Result r = MainTest.run(env(), args);
            assertThat(r.status()).isEqualTo(2);
            assertThat(r.err()).hasLineCount(1).startsWith("dozor-server: ");
        }
    }

    @Test
    void aSettingsFileThatIsMissingIsNamed() {
        MainTest.Result r = MainTest.run(env(), "retention", "--config", "/nonexistent/server.yaml");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("dozor-server: --config: no such file /nonexistent/server.yaml\n");
    }
}
