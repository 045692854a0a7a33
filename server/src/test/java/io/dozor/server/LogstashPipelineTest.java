package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.setup.ElasticsearchSetup;
import io.dozor.server.setup.IndexTemplate;
import io.dozor.testkit.Elasticsearch;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Verifies logstash/pipeline/dozor.conf without a Logstash (none runs here): the test reads the pipeline's
 * inputs (codec, ecs_compatibility, add_field) and filters (remove_field, the parse-failure branch), applies them
 * to real lines of the server's logback.xml the way the plugins do (what each input and codec adds in each
 * ecs_compatibility mode is taken from their sources: logstash-input-tcp's tcp.rb, logstash-input-file,
 * logstash-codec-json's json.rb), and checks that the resulting documents have only the logs template's fields,
 * no event.original, and index into a real Elasticsearch with a mapping that conforms to ECS.
 */
class LogstashPipelineTest {
    static final Path REPO = Path.of("..");

    @TempDir
    Path dir;

    @AfterEach
    void backToTheDefaultLogging() {
        Logging.configure(Path.of("logs"), Optional.empty());
    }

    static String pipeline() throws IOException {
        return Files.readString(REPO.resolve("logstash/pipeline/dozor.conf"));
    }

    static JsonObject logsTemplate() {
        return new JsonObject(IndexTemplate.LOGS.json("unused"));
    }

    static List<String> all(Pattern pattern, String text) {
        List<String> found = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    /** The text between the braces that follow {@code name {} in {@code conf}. */
    static String block(String conf, String name) {
        int start = conf.indexOf(name + " {");
        assertThat(start).as("block %s", name).isNotNegative();
        int open = conf.indexOf('{', start);
        int depth = 0;
        for (int i = open; i < conf.length(); i++) {
            char c = conf.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return conf.substring(open + 1, i);
            }
        }
        throw new AssertionError("unbalanced block " + name);
    }

    /** One input of the pipeline as it bears on the documents. */
    record Input(String name, String codec, String codecEcs, String ecs, Map<String, String> added) {
        static Input of(String conf, String name) {
            String body = block(block(conf, "input"), name);
            Matcher codec = Pattern.compile("codec => (\\w+)(\\s*\\{([^}]*)})?").matcher(body);
            assertThat(codec.find()).as("%s has a codec", name).isTrue();
            String codecEcs = codec.group(3) == null ? null : ecs(codec.group(3));
            String rest = body.substring(0, codec.start()) + body.substring(codec.end());
            Map<String, String> added = new LinkedHashMap<>();
            for (String pairs : all(Pattern.compile("add_field => \\{([^}]*)}"), rest)) {
                Matcher m = Pattern.compile("\"([^\"]+)\" => \"([^\"]*)\"").matcher(pairs);
                while (m.find()) {
                    added.put(m.group(1), m.group(2));
                }
            }
            return new Input(name, codec.group(1), codecEcs, ecs(rest), added);
        }

        /** A plugin's ecs_compatibility; unset, it follows the pipeline's default, v8 since Logstash 8. */
        static String ecs(String settings) {
            Matcher m = Pattern.compile("ecs_compatibility => (\\w+)").matcher(settings);
            return m.find() ? m.group(1) : "v8";
        }

        /** What the input and its codec make of one line, before the filters. */
        JsonObject read(String line) {
            JsonObject event;
            try {
                event = new JsonObject(line);
            } catch (DecodeException e) {
                event = new JsonObject().put("message", line).put("tags", new JsonArray().add("_jsonparsefailure"));
            }
            boolean codecInEcsMode = !"disabled".equals(codecEcs == null ? "v8" : codecEcs);
            if (codec.equals("json") && codecInEcsMode && !event.containsKey("tags")) {
                set(event, "[event][original]", line); // json.rb: @original_field = ecs_select[disabled: nil, v1: ...]
            }
            boolean inputEcs = !"disabled".equals(ecs);
            if (name.equals("tcp") && !inputEcs) { // tcp.rb: host and port, else under [@metadata][input][tcp]
                event.put("host", "10.0.0.5").put("port", 53211);
            }
            if (name.equals("file")) { // file input: host and path, else [host][name] and [log][file][path]
                set(event, inputEcs ? "[host][name]" : "host", "logstash-host");
                set(event, inputEcs ? "[log][file][path]" : "path", "/var/log/dozor/dozor-server.json");
            }
            for (var field : added.entrySet()) {
                set(event, field.getKey(), field.getValue());
            }
            event.put("@version", "1");
            return event;
        }
    }

    /** Sets a field given as Logstash writes it, {@code [a][b]} or a plain top-level name. */
    static void set(JsonObject event, String reference, Object value) {
        if (!reference.startsWith("[")) {
            event.put(reference, value);
            return;
        }
        String[] parts = reference.substring(1, reference.length() - 1).split("]\\[");
        JsonObject at = event;
        for (int i = 0; i < parts.length - 1; i++) {
            if (!(at.getValue(parts[i]) instanceof JsonObject)) {
                at.put(parts[i], new JsonObject());
            }
            at = at.getJsonObject(parts[i]);
        }
        at.put(parts[parts.length - 1], value);
    }

    /** The pipeline's filter section applied to one event. */
    static JsonObject filter(String conf, JsonObject event) {
        String filter = block(conf, "filter");
        String removeList =
                all(Pattern.compile("remove_field => \\[([^]]*)]"), filter).get(0);
        for (String field : all(Pattern.compile("\"([^\"]+)\""), removeList)) {
            event.remove(field);
        }
        String branch = block(filter, "if \"_jsonparsefailure\" in [tags]");
        if (event.getJsonArray("tags", new JsonArray()).contains("_jsonparsefailure")) {
            Matcher m = Pattern.compile("\"([^\"]+)\" => \"([^\"]*)\"").matcher(branch);
            while (m.find()) {
                set(event, m.group(1), m.group(2));
            }
        }
        return event;
    }

    /** Field names of a document the way Elasticsearch sees them: dotted keys and nested objects alike. */
    static Set<String> fields(JsonObject doc) {
        Set<String> out = new TreeSet<>();
        for (String f : EcsFields.documentFields(doc)) {
            out.add(f);
        }
        return out;
    }

    /** Real lines of the server's logback.xml: an info line with context, an error with a stack trace. */
    List<String> serverLines() throws IOException {
        Logging.configure(dir, Optional.empty());
        var log = LoggerFactory.getLogger("io.dozor.server.test.Pipeline");
        log.info(
                "stored batch [{}, {}]",
                net.logstash.logback.argument.StructuredArguments.kv("agent_id", "pc-01"),
                net.logstash.logback.argument.StructuredArguments.kv("reason", "r"));
        log.error("request failed", new IllegalStateException("boom"));
        return Files.readAllLines(dir.resolve("dozor-server.json"));
    }

    static boolean mapped(JsonObject templateProperties, String field) {
        return EcsFields.leaves(templateProperties).containsKey(field) || field.startsWith("dozor.");
    }

    @Test
    void theOutputIndexIsCoveredByTheLogsTemplate() throws IOException {
        List<String> indices = all(Pattern.compile("index => \"([^\"]+)\""), pipeline());
        assertThat(indices).containsExactly("dozor-logs-%{+YYYY.MM.dd}");
        assertThat(logsTemplate().getJsonArray("index_patterns").getList())
                .containsExactly(IndexTemplate.LOGS_PREFIX + "-*");
    }

    @Test
    void everyPluginSaysItsEcsCompatibilityAndTheJsonCodecKeepsNoEventOriginal() throws IOException {
        String conf = pipeline();
        for (String name : List.of("tcp", "file")) {
            String body = block(block(conf, "input"), name);
            assertThat(all(Pattern.compile("(ecs_compatibility => \\w+)"), body))
                    .as(name)
                    .hasSize(2);
        }
        assertThat(Input.of(conf, "file").codecEcs()).isEqualTo("disabled");
    }

    @Test
    void aServerLineThroughEitherInputHasExactlyTheTemplatesFieldsAndIndexesAsEcs() throws IOException {
        String conf = pipeline();
        JsonObject properties = logsTemplate()
                .getJsonObject("template")
                .getJsonObject("mappings")
                .getJsonObject("properties");
        Elasticsearch es = Elasticsearch.shared();
        new ElasticsearchSetup(new io.dozor.server.config.ServerConfig.Elasticsearch(
                        List.of(java.net.URI.create(es.url())), "dozor-events"))
                .install();
        String index = IndexTemplate.LOGS_PREFIX + "-pipeline-"
                + UUID.randomUUID().toString().substring(0, 8);
        List<String> lines = new ArrayList<>(serverLines());
        lines.add("not json at all");
        int n = 0;
        for (String name : List.of("tcp", "file")) {
            Input input = Input.of(conf, name);
            for (String line : lines) {
                JsonObject doc = filter(conf, input.read(line));
                Set<String> fields = fields(doc);
                assertThat(fields)
                        .as("%s: %s", name, line)
                        .doesNotContain("event.original", "@version", "host", "port", "path");
                assertThat(fields)
                        .as("%s: %s", name, line)
                        .allSatisfy(f -> assertThat(mapped(properties, f))
                                .as("%s mapped by the logs template", f)
                                .isTrue());
                assertThat(fields).contains("message", "dozor.log_source", "log.level");
                String answer = es.request("PUT", "/" + index + "/_doc/" + (++n) + "?refresh=true", doc.encode())
                        .body();
                assertThat(new JsonObject(answer).getString("result"))
                        .as(answer)
                        .isEqualTo("created");
            }
        }
        var mapping = EcsFields.leaves(new JsonObject(es.get("/" + index + "/_mapping"))
                .getJsonObject(index)
                .getJsonObject("mappings")
                .getJsonObject("properties"));
        assertThat(mapping)
                .containsKeys("log.level", "error.stack_trace", "agent.id", "dozor.reason", "dozor.log_source");
        assertThat(EcsFields.departures(mapping, !EcsFields.hasEcsTypes(es))).isEmpty();
    }

    @Test
    void leftToThePipelinesDefaultTheJsonCodecWouldAddEventOriginal() throws IOException {
        String conf = pipeline().replace("codec => json { ecs_compatibility => disabled }", "codec => json");
        JsonObject doc = filter(conf, Input.of(conf, "file").read(serverLines().get(0)));
        assertThat(fields(doc)).contains("event.original");
    }

    @Test
    void theFileInputReadsTheFilesLogbackWrites() throws IOException {
        String conf = pipeline();
        String serverLogback = new String(
                getClass().getClassLoader().getResourceAsStream("logback.xml").readAllBytes());
        assertThat(serverLogback).contains("${LOG_DIR}/dozor-server.json<");
        assertThat(conf).contains("/dozor-server.json\"", "/dozor-agent.json\"");
        // the agent sets up its logging in code: AgentLogsTest checks its files and fields against this pipeline
    }
}
