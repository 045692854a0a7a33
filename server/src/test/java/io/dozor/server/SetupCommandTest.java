package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.dozor.server.setup.IndexTemplate;
import io.dozor.server.setup.KibanaSetup;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.FreePort;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verifies {@code dozor-server setup elasticsearch} against the real Elasticsearch and {@code setup kibana}
 * against a fake saved-objects endpoint (no Kibana runs here): what is sent, and the exit status when
 * something is wrong.
 */
class SetupCommandTest {
    record Received(String method, String uri, String xsrf, String contentType, String body) {}

    @TempDir
    Path dir;

    HttpServer kibana;
    final List<Received> received = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopKibana() {
        if (kibana != null) {
            kibana.stop(0);
        }
    }

    Map<String, String> env(String esUrl, String prefix) {
        Map<String, String> env = new HashMap<>();
        env.put("DOZOR_HTTP_PLAIN", "true");
        env.put("DOZOR_AUTH_TOKEN_SECRET", TestServer.SECRET);
        env.put("DOZOR_POSTGRES_URL", "postgresql://dozor@127.0.0.1:1/dozor");
        env.put("DOZOR_ELASTICSEARCH_URLS", esUrl);
        env.put("DOZOR_ELASTICSEARCH_INDEX_PREFIX", prefix);
        env.put("DOZOR_LOG_DIR", dir.resolve("logs").toString());
        return env;
    }

    @Test
    void setupElasticsearchInstallsTheEventsAndLogsTemplatesAndCanRunAgain() {
        Elasticsearch es = Elasticsearch.shared();
        String prefix = "dozor-setup-" + UUID.randomUUID().toString().substring(0, 8);
        for (int run = 0; run < 2; run++) {
            MainTest.Result r = MainTest.run(env(es.url(), prefix), "setup", "elasticsearch");
            assertThat(r.status()).as(r.err()).isEqualTo(0);
            assertThat(r.out())
                    .contains("index template " + prefix + " installed", "index template dozor-logs installed");
        }
        JsonObject events = new JsonObject(es.get("/_index_template/" + prefix));
        assertThat(events.getJsonArray("index_templates")
                        .getJsonObject(0)
                        .getJsonObject("index_template")
                        .getJsonArray("index_patterns")
                        .getList())
                .containsExactly(prefix + "-*");
        JsonObject logs = new JsonObject(es.get("/_index_template/dozor-logs"));
        assertThat(logs.getJsonArray("index_templates")
                        .getJsonObject(0)
                        .getJsonObject("index_template")
                        .getJsonArray("index_patterns")
                        .getList())
                .containsExactly("dozor-logs-*");
    }

    @Test
    void anEventsPrefixWhosePatternOverlapsDozorsOwnIndicesIsRefusedBeforeElasticsearchWouldRefuseIt() {
        Elasticsearch es = Elasticsearch.shared();
        assertThat(MainTest.run(env(es.url(), "dozor-events"), "setup", "elasticsearch")
                        .status())
                .isZero();
        // what would happen: Elasticsearch refuses a second template of the same priority on an overlapping pattern
        JsonObject overlapping = new JsonObject(IndexTemplate.EVENTS.json("dozor"));
        Elasticsearch.Response refused = es.request(
                "PUT",
                "/_index_template/dozor-overlap-" + UUID.randomUUID().toString().substring(0, 8),
                overlapping.encode());
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        assertThat(refused.body()).contains("dozor-logs");

        for (String prefix :
                List.of("dozor", "dozor-logs", "dozor-logs-old", "dozor-heartbeats", "dozor-heartbeats-x")) {
            MainTest.Result r = MainTest.run(env(es.url(), prefix), "setup", "elasticsearch");
            assertThat(r.status()).as(prefix).isEqualTo(2);
            assertThat(r.err())
                    .as(prefix)
                    .startsWith("dozor-server: elasticsearch.index_prefix (DOZOR_ELASTICSEARCH_INDEX_PREFIX): \""
                            + prefix + "-*\" overlaps \"dozor-");
            assertThat(r.err().lines()).hasSize(1);
            MainTest.Result kibana =
                    MainTest.run(Map.of(), "setup", "kibana", "--url", "http://127.0.0.1:1", "--index-prefix", prefix);
            assertThat(kibana.status()).as(prefix).isEqualTo(2);
            assertThat(kibana.err())
                    .as(prefix)
                    .startsWith("dozor-server: --index-prefix: \"" + prefix + "-*\" overlaps");
        }
        // prefixes next to the boundary are fine, and Elasticsearch takes their templates beside the fixed ones
        for (String prefix : List.of(
                "dozor-log",
                "dozorlogs",
                "dozor-heartbeat",
                "launches-" + UUID.randomUUID().toString().substring(0, 8))) {
            MainTest.Result r = MainTest.run(env(es.url(), prefix), "setup", "elasticsearch");
            assertThat(r.status()).as(prefix + ": " + r.err()).isZero();
            es.delete("/_index_template/" + prefix);
        }
    }

    @Test
    void setupElasticsearchWithElasticsearchDownExits1NamingIt() {
        MainTest.Result r =
                MainTest.run(env("http://127.0.0.1:" + FreePort.find(), "dozor-events"), "setup", "elasticsearch");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err())
                .startsWith("dozor-server: Elasticsearch unreachable")
                .contains("127.0.0.1");
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void setupKibanaPostsTheSavedObjectsAsMultipartWithTheXsrfHeader() throws IOException {
        startKibana(200, "{\"success\":true,\"successCount\":11,\"successResults\":[]}");
        MainTest.Result r = MainTest.run(
                Map.of(), "setup", "kibana", "--url", kibanaUrl() + "/", "--index-prefix", "acme-launches");
        assertThat(r.status()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("kibana saved objects imported [count=11");

        assertThat(received).hasSize(1);
        Received request = received.get(0);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.uri()).isEqualTo("/api/saved_objects/_import?overwrite=true");
        assertThat(request.xsrf()).isNotBlank();
        assertThat(request.contentType()).startsWith("multipart/form-data; boundary=");
        String boundary = request.contentType().substring(request.contentType().indexOf("boundary=") + 9);
        assertThat(request.body())
                .startsWith("--" + boundary + "\r\n")
                .contains("Content-Disposition: form-data; name=\"file\"; filename=\"dozor.ndjson\"")
                .endsWith("\r\n--" + boundary + "--\r\n");
        String ndjson = request.body()
                .substring(
                        request.body().indexOf("\r\n\r\n") + 4, request.body().lastIndexOf("\r\n--" + boundary));
        assertThat(ndjson).isEqualTo(KibanaSetup.savedObjects("acme-launches"));
        assertThat(ndjson).contains("\"title\":\"acme-launches-*\"").doesNotContain("dozor-events-*");
    }

    @Test
    void setupKibanaReportsObjectsKibanaRefusedAndExits1() throws IOException {
        startKibana(
                200,
                "{\"success\":false,\"successCount\":10,\"errors\":[{\"id\":\"dozor-launches\","
                        + "\"type\":\"dashboard\",\"error\":{\"type\":\"missing_references\"}}]}");
        MainTest.Result r = MainTest.run(Map.of(), "setup", "kibana", "--url", kibanaUrl());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("refused some saved objects", "dashboard/dozor-launches", "missing_references");
    }

    @Test
    void setupKibanaWithKibanaDownExits1WithOneClearLine() {
        MainTest.Result r = MainTest.run(Map.of(), "setup", "kibana", "--url", "http://127.0.0.1:" + FreePort.find());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).startsWith("dozor-server: Kibana unreachable at http://127.0.0.1:");
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void setupKibanaWithABadUrlIsAUsageError() {
        MainTest.Result r = MainTest.run(Map.of(), "setup", "kibana", "--url", "kibana:5601");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("dozor-server: --url: must be Kibana's http(s) base URL, got \"kibana:5601\"\n");
    }

    void startKibana(int status, String answer) throws IOException {
        kibana = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        kibana.createContext("/", exchange -> {
            received.add(new Received(
                    exchange.getRequestMethod(),
                    exchange.getRequestURI().toString(),
                    exchange.getRequestHeaders().getFirst("kbn-xsrf"),
                    exchange.getRequestHeaders().getFirst("Content-Type"),
                    new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        kibana.start();
    }

    String kibanaUrl() {
        return "http://127.0.0.1:" + kibana.getAddress().getPort();
    }
}
