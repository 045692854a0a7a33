package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The alert rules in prometheus/ pass {@code promtool check rules}, their unit tests pass {@code promtool test
 * rules}, every alert has a summary and is tested both firing and not firing, and the example Prometheus
 * configuration that loads them passes {@code promtool check config}.
 */
class AlertRulesTest {
    static final Path DIR = Path.of("..", "prometheus");
    static final String RULES = "dozor-alerts.yml";
    static final String TESTS = "dozor-alerts.test.yml";
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @Test
    void rulesPassPromtoolCheck() {
        Promtool.Result result = Promtool.run(DIR, "", "check", "rules", RULES);
        assertThat(result.exitCode()).as(result.output()).isZero();
    }

    @Test
    void rulesPassTheirPromtoolUnitTests() {
        Promtool.Result result = Promtool.run(DIR, "", "test", "rules", TESTS);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("SUCCESS");
    }

    @Test
    void exampleConfigurationPassesPromtoolCheck() {
        Promtool.Result result = Promtool.run(DIR, "", "check", "config", "prometheus.yml");
        assertThat(result.exitCode()).as(result.output()).isZero();
    }

    @Test
    void everyAlertHasASummaryAndIsTestedFiringAndNotFiring() throws IOException {
        Set<String> alerts = new TreeSet<>();
        for (JsonNode group : YAML.readTree(DIR.resolve(RULES).toFile()).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                String name = rule.path("alert").asText();
                alerts.add(name);
                assertThat(rule.path("annotations").path("summary").asText())
                        .as("summary of " + name)
                        .hasSizeGreaterThan(40);
                assertThat(rule.path("labels").path("severity").asText())
                        .as("severity of " + name)
                        .isIn("warning", "critical");
            }
        }
        Set<String> firing = new HashSet<>();
        Set<String> quiet = new HashSet<>();
        for (JsonNode test : YAML.readTree(DIR.resolve(TESTS).toFile()).path("tests")) {
            for (JsonNode check : test.path("alert_rule_test")) {
                (check.path("exp_alerts").isEmpty() ? quiet : firing)
                        .add(check.path("alertname").asText());
            }
        }
        assertThat(alerts).hasSizeGreaterThanOrEqualTo(11);
        assertThat(firing).as("alerts with a firing test").containsAll(alerts);
        assertThat(quiet).as("alerts with a not-firing test").containsAll(alerts);
    }
}
