package io.dozor.server.setup;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Verifies docker-compose.elk.yml as a compose parser would read it (no Docker engine runs here; .ci/run also
 * has docker-compose validate it): the services of the ELK stack, their health checks and start order, and
 * that the one-shot setup installs templates and dashboards once Kibana is up.
 */
class ComposeFileTest {
    static final Path REPO = Path.of("..");
    static JsonNode services;

    @BeforeAll
    static void parse() throws IOException {
        // SnakeYAML resolves the file's anchors and aliases (x-dozor-settings), as compose does
        Object yaml = new Yaml().load(Files.readString(REPO.resolve("docker-compose.elk.yml")));
        services = new ObjectMapper().valueToTree(yaml).get("services");
    }

    static List<String> names(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void theStackHasEveryServiceAndEveryLongRunningOneAHealthCheck() {
        assertThat(names(services))
                .containsExactlyInAnyOrder(
                        "postgres",
                        "elasticsearch",
                        "kibana",
                        "logstash",
                        "dozor-server",
                        "dozor-setup",
                        "dozor-secret");
        for (String name : names(services)) {
            if (!name.equals("dozor-setup") && !name.equals("dozor-secret")) {
                assertThat(services.get(name).has("healthcheck"))
                        .as(name + " healthcheck")
                        .isTrue();
                assertThat(services.get(name).get("healthcheck").get("test").isArray())
                        .as(name)
                        .isTrue();
            }
        }
    }

    /** Runs the Kibana health check's shell command with {@code body} as /api/status's answer; its exit code. */
    static int kibanaCheck(String body, Path dir) throws IOException, InterruptedException {
        String command =
                services.get("kibana").get("healthcheck").get("test").get(1).asText();
        String curl = "curl -fsS http://localhost:5601/api/status";
        assertThat(command).startsWith(curl);
        Path answer = Files.writeString(dir.resolve("status.json"), body);
        Process sh = new ProcessBuilder("sh", "-c", "cat '" + answer + "'" + command.substring(curl.length()))
                .redirectErrorStream(true)
                .start();
        sh.getInputStream().readAllBytes();
        return sh.waitFor();
    }

    @Test
    void kibanaIsHealthyOnlyWhenItsOverallStatusIsAvailable(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        // the shape of Kibana 9's GET /api/status (v8 format): status.overall, then core's and each plugin's
        String available = """
        {"name":"kibana","version":{"number":"9.2.0"},"status":{"overall":{"level":"available","summary":"All         services and plugins are available"},"core":{"elasticsearch":{"level":"available","summary":"ok"}},        "plugins":{"data":{"level":"available","summary":"ok"}}}}""";
        String degraded =
                available.replaceFirst("\"overall\":\\{\"level\":\"available\"", "\"overall\":{\"level\":\"degraded\"");
        assertThat(degraded).contains("\"overall\":{\"level\":\"degraded\"").contains("\"level\":\"available\"");
        assertThat(kibanaCheck(available, dir)).isZero();
        assertThat(kibanaCheck(degraded, dir))
                .as("a plugin's available is not Kibana's")
                .isNotZero();
        assertThat(kibanaCheck(available.replace("\"available\"", "\"unavailable\""), dir))
                .isNotZero();
    }

    @Test
    void everyPublishedPortListensOnTheLoopbackOnly() {
        // security is off in this stack (plain HTTP, Elasticsearch and Kibana without users): nothing on the network
        List<String> published = new ArrayList<>();
        for (String name : names(services)) {
            JsonNode ports = services.get(name).get("ports");
            if (ports != null) {
                ports.forEach(p -> published.add(name + " " + p.asText()));
            }
        }
        assertThat(published)
                .containsExactlyInAnyOrder(
                        "elasticsearch 127.0.0.1:9200:9200",
                        "kibana 127.0.0.1:5601:5601",
                        "logstash 127.0.0.1:5000:5000",
                        "dozor-server 127.0.0.1:8443:8443");
    }

    @Test
    void theServerMayHoldMoreFileDescriptorsThanItsDefaultConnectionCap() {
        JsonNode nofile = services.get("dozor-server").get("ulimits").get("nofile");
        int cap = Integer.parseInt(io.dozor.server.config.Setting.HTTP_MAX_CONNECTIONS
                .defaultValue()
                .orElseThrow());
        assertThat(nofile.get("soft").asInt()).isGreaterThan(cap + 200);
        assertThat(nofile.get("hard").asInt())
                .isGreaterThanOrEqualTo(nofile.get("soft").asInt());
    }

    @Test
    void theElasticProductsShareTheVersionTheTestsRunAgainst() {
        Set<String> tags = new TreeSet<>();
        for (String name : List.of("elasticsearch", "kibana", "logstash")) {
            String image = services.get(name).get("image").asText();
            assertThat(image).startsWith("docker.elastic.co/" + name + "/" + name + ":");
            tags.add(image.substring(image.lastIndexOf(':') + 1));
        }
        assertThat(tags).containsExactly(System.getProperty("dozor.es.version", "9.2.0"));
    }

    @Test
    void everyDependencyExistsAndWaitsForHealthOnlyWhereThereIsAHealthCheck() {
        for (String name : names(services)) {
            JsonNode dependsOn = services.get(name).get("depends_on");
            if (dependsOn == null) {
                continue;
            }
            for (String dependency : names(dependsOn)) {
                assertThat(services.has(dependency))
                        .as(name + " depends on " + dependency)
                        .isTrue();
                String condition = dependsOn.get(dependency).get("condition").asText();
                assertThat(condition).isIn("service_started", "service_healthy", "service_completed_successfully");
                if (condition.equals("service_healthy")) {
                    assertThat(services.get(dependency).has("healthcheck"))
                            .as(dependency + " healthcheck")
                            .isTrue();
                }
            }
        }
    }

    @Test
    void theServerAndTheSetupReadTheSecretTheStackMadeOnceAndShipNone() {
        String make = services.get("dozor-secret").get("command").get(0).asText();
        assertThat(make).startsWith("test -s /etc/dozor/server.yaml ||").contains("secret generate", "umask 077");
        assertThat(services.get("dozor-secret").get("volumes").get(0).asText()).isEqualTo("dozor-config:/etc/dozor");
        for (String name : List.of("dozor-server", "dozor-setup")) {
            JsonNode service = services.get(name);
            assertThat(service.get("depends_on")
                            .get("dozor-secret")
                            .get("condition")
                            .asText())
                    .as(name)
                    .isEqualTo("service_completed_successfully");
            assertThat(service.get("volumes").toString()).as(name).contains("dozor-config:/etc/dozor:ro");
            assertThat(service.get("environment").has("DOZOR_AUTH_TOKEN_SECRET"))
                    .as(name)
                    .isFalse();
        }
        assertThat(services.get("dozor-server").get("command").toString())
                .contains("\"--config\",\"/etc/dozor/server.yaml\"");
        assertThat(services.get("dozor-setup").get("command").get(0).asText())
                .contains("setup elasticsearch --config /etc/dozor/server.yaml");
    }

    @Test
    void theSecretIsMadeOnceIntoAPrivateFileTheServerAccepts(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        String made = io.dozor.server.auth.Secrets.generate();
        // compose's $$ is the shell's $; the image's java and /etc/dozor are a stand-in and a temporary folder here
        String command = services.get("dozor-secret")
                .get("command")
                .get(0)
                .asText()
                .replace("$$", "$")
                .replace("java -jar /app/dozor-server.jar secret generate", "echo " + made)
                .replace("/etc/dozor", dir.toString());
        for (int run = 0; run < 2; run++) {
            Process sh = new ProcessBuilder("sh", "-c", command)
                    .redirectErrorStream(true)
                    .start();
            assertThat(new String(sh.getInputStream().readAllBytes())).isEmpty();
            assertThat(sh.waitFor()).isZero();
        }
        Path yaml = dir.resolve("server.yaml");
        assertThat(Files.getPosixFilePermissions(yaml))
                .containsExactlyInAnyOrder(
                        java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        var config = new io.dozor.server.config.ConfigLoader(java.util.Map.of(
                        "DOZOR_POSTGRES_URL", "postgresql://dozor@postgres:5432/dozor",
                        "DOZOR_ELASTICSEARCH_URLS", "http://elasticsearch:9200"))
                .loadForTools(java.util.Optional.of(yaml));
        assertThat(config.auth().tokenSecrets())
                .as("the second start kept the first secret")
                .containsExactly(made);
    }

    @Test
    void theSetupInstallsTemplatesAndDashboardsAfterKibanaIsHealthyAndBeforeLogstashWrites() {
        JsonNode setup = services.get("dozor-setup");
        String command = setup.get("command").toString();
        assertThat(command).contains("setup elasticsearch", "setup kibana --url http://kibana:5601");
        assertThat(setup.get("depends_on").get("kibana").get("condition").asText())
                .isEqualTo("service_healthy");
        assertThat(setup.get("depends_on").get("elasticsearch").get("condition").asText())
                .isEqualTo("service_healthy");
        assertThat(services.get("logstash")
                        .get("depends_on")
                        .get("dozor-setup")
                        .get("condition")
                        .asText())
                .isEqualTo("service_completed_successfully");
        assertThat(setup.get("build").get("dockerfile").asText()).isEqualTo("server/Dockerfile");
    }

    @Test
    void theServerShipsItsLogsToLogstashsTcpInputAndLogstashRunsThePipeline() throws IOException {
        JsonNode env = services.get("dozor-server").get("environment");
        assertThat(env.get("DOZOR_LOG_LOGSTASH").asText()).isEqualTo("logstash:5000");
        assertThat(env.get("DOZOR_ELASTICSEARCH_URLS").asText()).isEqualTo("http://elasticsearch:9200");
        assertThat(env.get("DOZOR_POSTGRES_URL").asText())
                .startsWith("postgresql://dozor:")
                .endsWith("@postgres:5432/dozor");
        assertThat(Files.readString(REPO.resolve("logstash/pipeline/dozor.conf")))
                .contains("port => \"${DOZOR_LOGSTASH_TCP_PORT:5000}\"");
        assertThat(services.get("logstash").get("volumes").toString())
                .contains("./logstash/pipeline:/usr/share/logstash/pipeline");
        assertThat(Files.readString(REPO.resolve("server/Dockerfile")))
                .contains("FROM eclipse-temurin:21-jre", "COPY --from=build /src/server/target/dozor-server.jar");
    }
}
