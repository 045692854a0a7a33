package io.dozor.server.setup;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.config.ServerConfig;
import io.dozor.testkit.Elasticsearch;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Verifies the Kibana saved objects without a Kibana: every object parses, every reference resolves, and
 * every field a data view, visualization or saved search names exists in the mapping that the installed
 * templates give a real index.
 */
class KibanaSavedObjectsTest {
    static final Pattern KQL_FIELD = Pattern.compile("([A-Za-z_@][\\w.@]*)\\s*:");

    static Elasticsearch es;
    static String prefix;
    static List<JsonObject> objects;
    /** data view id → a concrete index that its title matches. */
    static Map<String, String> indexOfView = new TreeMap<>();

    @BeforeAll
    static void installTemplatesAndOneDocumentPerIndex() {
        es = Elasticsearch.shared();
        prefix = "dozor-kibana-" + UUID.randomUUID().toString().substring(0, 8);
        new ElasticsearchSetup(new ServerConfig.Elasticsearch(List.of(URI.create(es.url())), prefix)).install();
        objects = KibanaSetup.savedObjects(prefix).lines().map(JsonObject::new).toList();

        String eventsIndex = prefix + "-2026.11";
        es.put(
                "/" + eventsIndex + "/_doc/6f1c0000-0000-4000-8000-000000000001?refresh=true",
                new JsonObject()
                        .put("@timestamp", "2026-11-27T10:15:03.120+03:00")
                        .put(
                                "event",
                                new JsonObject()
                                        .put("id", "6f1c0000-0000-4000-8000-000000000001")
                                        .put("kind", "event"))
                        .put("user", new JsonObject().put("name", "ivanov"))
                        .put(
                                "process",
                                new JsonObject()
                                        .put("name", "chrome.exe")
                                        .put("pid", 4312)
                                        .put("executable", "C:\\Apps\\chrome.exe"))
                        .put("host", new JsonObject().put("name", "PC-01"))
                        .put("agent", new JsonObject().put("id", "pc-01"))
                        .encode());
        String logsIndex = IndexTemplate.LOGS_PREFIX + "-test-"
                + UUID.randomUUID().toString().substring(0, 8);
        es.put(
                "/" + logsIndex + "/_doc/1?refresh=true",
                new JsonObject()
                        .put("@timestamp", "2026-11-27T10:15:03.120+03:00")
                        .put("message", "a line")
                        .put("log", new JsonObject().put("level", "WARN").put("logger", "io.dozor.server.X"))
                        .put("service", new JsonObject().put("name", "dozor-server"))
                        .encode());

        String heartbeatsIndex = IndexTemplate.HEARTBEATS_PREFIX + "-test-"
                + UUID.randomUUID().toString().substring(0, 8);
        es.put(
                "/" + heartbeatsIndex + "/_doc/1?refresh=true",
                new JsonObject()
                        .put("@timestamp", "2026-11-27T10:15:03.120+03:00")
                        .put("agent", new JsonObject().put("id", "pc-01"))
                        .encode());

        for (JsonObject o : objects) {
            if (o.getString("type").equals("index-pattern")) {
                String title = o.getJsonObject("attributes").getString("title");
                indexOfView.put(
                        o.getString("id"),
                        title.equals(prefix + "-*")
                                ? eventsIndex
                                : title.equals(IndexTemplate.LOGS_PREFIX + "-*")
                                        ? logsIndex
                                        : title.equals(IndexTemplate.HEARTBEATS_PREFIX + "-*")
                                                ? heartbeatsIndex
                                                : null);
            }
        }
    }

    @Test
    void theFileHoldsTheThreeDataViewsDashboardsAndTheirPanels() {
        assertThat(indexOfView)
                .containsOnlyKeys("dozor-events", "dozor-logs", "dozor-heartbeats")
                .doesNotContainValue(null);
        assertThat(titles("dashboard")).contains("Dozor — launches", "Dozor — errors", "Dozor — fleet");
        assertThat(titles("lens"))
                .contains(
                        "Agents by last heartbeat",
                        "Silent agents",
                        "Spool depth per agent",
                        "Dropped events per agent",
                        "Agent versions");
        assertThat(titles("search")).contains("Dozor — recent launches", "Dozor — warnings and errors");
        assertThat(titles("lens"))
                .contains("Launches over time", "Top programs", "Top users", "Launches by host and agent");
    }

    @Test
    void everyReferenceNamesAnObjectOfTheFile() {
        Set<String> ids = objects.stream()
                .map(o -> o.getString("type") + "/" + o.getString("id"))
                .collect(Collectors.toSet());
        for (JsonObject o : objects) {
            for (Object r : o.getJsonArray("references")) {
                JsonObject ref = (JsonObject) r;
                assertThat(ids)
                        .as("reference %s of %s", ref, o.getString("id"))
                        .contains(ref.getString("type") + "/" + ref.getString("id"));
            }
            if (o.getString("type").equals("dashboard")) {
                Set<String> refNames = o.getJsonArray("references").stream()
                        .map(r -> ((JsonObject) r).getString("name"))
                        .collect(Collectors.toSet());
                for (Object p : new JsonArray(o.getJsonObject("attributes").getString("panelsJSON"))) {
                    JsonObject panel = (JsonObject) p;
                    assertThat(refNames)
                            .contains(panel.getString("panelIndex") + ":" + panel.getString("panelRefName"));
                }
            }
        }
    }

    @Test
    void everyFieldTheSavedObjectsUseExistsInTheLiveMapping() {
        Map<String, Set<String>> fieldsByView = new TreeMap<>();
        for (JsonObject o : objects) {
            collectFields(o, fieldsByView);
        }
        assertThat(fieldsByView.get("dozor-events"))
                .contains("@timestamp", "process.name", "user.name", "host.name", "agent.id", "process.executable");
        assertThat(fieldsByView.get("dozor-logs"))
                .contains(
                        "@timestamp",
                        "log.level",
                        "message",
                        "log.logger",
                        "service.name",
                        "agent.id",
                        "http.request.id",
                        "event.id");
        assertThat(fieldsByView.get("dozor-heartbeats"))
                .contains(
                        "@timestamp",
                        "agent.id",
                        "agent.version",
                        "dozor.agent.spool_depth",
                        "dozor.agent.dropped_events");

        List<String> missing = new ArrayList<>();
        fieldsByView.forEach((view, fields) -> {
            String index = indexOfView.get(view);
            for (String field : fields) {
                JsonObject mapping = new JsonObject(es.get("/" + index + "/_mapping/field/" + field));
                if (mapping.getJsonObject(index).getJsonObject("mappings").isEmpty()) {
                    missing.add(view + ": " + field);
                }
            }
        });
        assertThat(missing)
                .as("fields used by saved objects but absent from the mapping")
                .isEmpty();
    }

    @Test
    void theLaunchFieldsAreKeywordsAndTheTimeADate() {
        String index = indexOfView.get("dozor-events");
        for (String field : List.of("process.name", "user.name", "host.name", "agent.id")) {
            assertThat(type(index, field)).as(field).isEqualTo("keyword");
        }
        assertThat(type(index, "@timestamp")).isEqualTo("date");
        assertThat(type(indexOfView.get("dozor-logs"), "log.level")).isEqualTo("keyword");
        assertThat(type(indexOfView.get("dozor-logs"), "@timestamp")).isEqualTo("date");
    }

    static String type(String index, String field) {
        JsonObject mapping = new JsonObject(es.get("/" + index + "/_mapping/field/" + field))
                .getJsonObject(index)
                .getJsonObject("mappings")
                .getJsonObject(field)
                .getJsonObject("mapping");
        String leaf = field.substring(field.lastIndexOf('.') + 1);
        return mapping.getJsonObject(leaf).getString("type");
    }

    static Set<String> titles(String type) {
        return objects.stream()
                .filter(o -> o.getString("type").equals(type))
                .map(o -> o.getJsonObject("attributes").getString("title"))
                .collect(Collectors.toSet());
    }

    static void collectFields(JsonObject o, Map<String, Set<String>> into) {
        JsonObject a = o.getJsonObject("attributes");
        switch (o.getString("type")) {
            case "index-pattern" -> {
                Set<String> fields = into.computeIfAbsent(o.getString("id"), k -> new TreeSet<>());
                fields.add(a.getString("timeFieldName"));
                fields.addAll(new JsonObject(a.getString("fieldAttrs")).fieldNames());
            }
            case "lens" -> {
                Set<String> fields = into.computeIfAbsent(view(o), k -> new TreeSet<>());
                JsonObject state = a.getJsonObject("state");
                JsonObject layers = state.getJsonObject("datasourceStates")
                        .getJsonObject("formBased")
                        .getJsonObject("layers");
                for (String layer : layers.fieldNames()) {
                    JsonObject columns = layers.getJsonObject(layer).getJsonObject("columns");
                    for (String column : columns.fieldNames()) {
                        String field = columns.getJsonObject(column).getString("sourceField");
                        if (!"___records___".equals(field)) {
                            fields.add(field);
                        }
                    }
                }
                fields.addAll(kqlFields(state.getJsonObject("query").getString("query")));
            }
            case "search" -> {
                Set<String> fields = into.computeIfAbsent(view(o), k -> new TreeSet<>());
                a.getJsonArray("columns").forEach(c -> fields.add((String) c));
                a.getJsonArray("sort").forEach(s -> fields.add(((JsonArray) s).getString(0)));
                JsonObject source =
                        new JsonObject(a.getJsonObject("kibanaSavedObjectMeta").getString("searchSourceJSON"));
                fields.addAll(kqlFields(source.getJsonObject("query").getString("query")));
            }
            default -> {}
        }
    }

    /** The data view a visualization or search reads. */
    static String view(JsonObject o) {
        return o.getJsonArray("references").stream()
                .map(r -> (JsonObject) r)
                .filter(r -> r.getString("type").equals("index-pattern"))
                .map(r -> r.getString("id"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(o.getString("id") + " names no data view"));
    }

    static Set<String> kqlFields(String query) {
        Set<String> fields = new TreeSet<>();
        Matcher m = KQL_FIELD.matcher(query);
        while (m.find()) {
            fields.add(m.group(1));
        }
        return fields;
    }
}
