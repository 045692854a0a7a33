package io.dozor.server.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.EcsFields;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import io.dozor.server.setup.ElasticsearchSetup;
import io.dozor.server.setup.IndexTemplate;
import io.dozor.testkit.Elasticsearch;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every field of a launch document, as the server builds it and the installed template maps it in a real
 * Elasticsearch, is an ECS 9.2.0 field with ECS's type, ignore_above and multi-fields (elasticsearch/ecs/,
 * from ECS's generated field set), or a documented dozor.* field; and the document writes nothing the
 * template does not map (its mapping is not dynamic: such a field would silently not be searchable).
 */
class EcsConformanceTest {
    static Elasticsearch es;
    static String prefix;

    @BeforeAll
    static void installTemplates() {
        es = Elasticsearch.shared();
        prefix = "dozor-ecs-" + UUID.randomUUID().toString().substring(0, 8);
        new ElasticsearchSetup(new ServerConfig.Elasticsearch(List.of(URI.create(es.url())), prefix)).install();
    }

    static StoredEvent full() {
        var launch = new LaunchEvent(
                UUID.fromString("6f1c2a7e-3b9d-4c51-9a0e-2d8f4b6c1e73"),
                OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"),
                "ivanov",
                "chrome.exe",
                4312L,
                "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
                "PC-01",
                new LaunchEvent.Context(812L, "explorer.exe", "CORP", "windows", "windows", "0.2.0"));
        return new StoredEvent(1, "pc-01", launch, OffsetDateTime.parse("2026-11-27T07:15:04.5Z"));
    }

    static Map<String, JsonObject> mappingOf(String index) {
        return EcsFields.leaves(new JsonObject(es.get("/" + index + "/_mapping"))
                .getJsonObject(index)
                .getJsonObject("mappings")
                .getJsonObject("properties"));
    }

    @Test
    void aLaunchDocumentHasOnlyEcsFieldsOfEcsTypesAllMapped() {
        StoredEvent event = full();
        JsonObject doc = new JsonObject(EcsDocument.of(event));
        String index = EcsDocument.index(prefix, event);
        es.put("/" + index + "/_doc/" + event.launch().eventId() + "?refresh=true", doc.encode());

        Map<String, JsonObject> mapping = mappingOf(index);
        assertThat(EcsFields.departures(mapping, !EcsFields.hasEcsTypes(es)))
                .as("mapped fields departing from ECS")
                .isEmpty();
        assertThat(mapping.keySet()).as("every field written is mapped").containsAll(EcsFields.documentFields(doc));
        assertThat(EcsFields.valueDepartures(doc)).isEmpty();
        assertThat(EcsFields.documentFields(doc))
                .contains(
                        "ecs.version",
                        "event.ingested",
                        "host.hostname",
                        "process.parent.pid",
                        "process.parent.name",
                        "user.domain",
                        "host.os.type",
                        "host.os.family",
                        "agent.version",
                        "agent.type");
        assertThat(doc.getJsonObject("ecs").getString("version")).isEqualTo(EcsFields.ECS.getString("ecs_version"));
    }

    @Test
    void everyShippedTemplateMapsExactlyAsEcs() {
        for (IndexTemplate template : IndexTemplate.values()) {
            assertThat(EcsFields.departures(EcsFields.templateLeaves(new JsonObject(template.json(prefix)))))
                    .as(template.resource())
                    .isEmpty();
        }
    }

    @Test
    void theTextMultiFieldsAreSearchable() {
        StoredEvent event = full();
        String index = EcsDocument.index(prefix, event);
        es.put(
                "/" + index + "/_doc/" + event.launch().eventId() + "?refresh=true",
                new JsonObject(EcsDocument.of(event)).encode());
        String hits = es.post(
                "/" + index + "/_search",
                new JsonObject()
                        .put(
                                "query",
                                new JsonObject()
                                        .put(
                                                "match",
                                                new JsonObject().put("process.executable.text", "chrome application")))
                        .encode());
        assertThat(new JsonObject(hits)
                        .getJsonObject("hits")
                        .getJsonObject("total")
                        .getInteger("value"))
                .isEqualTo(1);
    }

    @Test
    void theConformanceCheckFailsOnADeparture() {
        // the check itself: a keyword without ECS's ignore_above, a text field, an unknown field
        Map<String, JsonObject> bad = Map.of(
                "user.name", new JsonObject().put("type", "keyword").put("ignore_above", 256),
                "process.name", new JsonObject().put("type", "text"),
                "launch_user", new JsonObject().put("type", "keyword"));
        assertThat(EcsFields.departures(bad))
                .containsExactlyInAnyOrder(
                        "launch_user: neither an ECS field nor a documented dozor.* field",
                        "process.name: ignore_above null, ECS 9.2.0 says 1024",
                        "process.name: multi-fields {}, ECS 9.2.0 says {text=match_only_text}",
                        "process.name: type text, ECS 9.2.0 says keyword",
                        "user.name: ignore_above 256, ECS 9.2.0 says 1024",
                        "user.name: multi-fields {}, ECS 9.2.0 says {text=match_only_text}");
        assertThat(EcsFields.valueDepartures(new JsonObject()
                        .put("host", new JsonObject().put("os", new JsonObject().put("type", "win32")))))
                .hasSize(1);
    }
}
