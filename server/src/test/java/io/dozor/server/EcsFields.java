package io.dozor.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The ECS definitions Dozor follows, kept in the repository as data (elasticsearch/ecs/: ECS's own
 * generated field set trimmed to the fields Dozor writes, with its version and source named, and the
 * dozor.* fields Dozor adds), and the check of a live Elasticsearch mapping against them.
 */
public final class EcsFields {
    static final Path DIR = Path.of("..", "elasticsearch", "ecs");
    public static final JsonObject ECS = read("ecs-9.2.0-fields.json");
    public static final JsonObject DOZOR = read("dozor-fields.json").getJsonObject("fields");

    private EcsFields() {}

    private static JsonObject read(String name) {
        try {
            return new JsonObject(Files.readString(DIR.resolve(name)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** ECS's definition of {@code field}, or null when ECS has none. */
    public static JsonObject ecs(String field) {
        return ECS.getJsonObject("fields").getJsonObject(field);
    }

    /** Dozor's own definition of a dozor.* field (exact, else the nearest {@code prefix.*}), or null. */
    public static JsonObject dozor(String field) {
        if (!field.startsWith("dozor.")) {
            return null;
        }
        if (DOZOR.containsKey(field)) {
            return DOZOR.getJsonObject(field);
        }
        for (String prefix = field; prefix.contains("."); ) {
            prefix = prefix.substring(0, prefix.lastIndexOf('.'));
            if (DOZOR.containsKey(prefix + ".*")) {
                return DOZOR.getJsonObject(prefix + ".*");
            }
        }
        return null;
    }

    /** The leaf fields of a mapping's {@code properties}, by dotted name, each with its mapping. */
    public static Map<String, JsonObject> leaves(JsonObject properties) {
        Map<String, JsonObject> out = new TreeMap<>();
        leaves("", properties, out);
        return out;
    }

    private static void leaves(String prefix, JsonObject properties, Map<String, JsonObject> out) {
        for (String name : properties.fieldNames()) {
            JsonObject m = properties.getJsonObject(name);
            if (m.containsKey("properties")) {
                leaves(prefix + name + ".", m.getJsonObject("properties"), out);
            } else {
                out.put(prefix + name, m);
            }
        }
    }

    /** The leaf fields of a document (dotted names; arrays of values are one field). */
    public static List<String> documentFields(JsonObject doc) {
        List<String> out = new ArrayList<>();
        documentFields("", doc, out);
        return out;
    }

    private static void documentFields(String prefix, JsonObject doc, List<String> out) {
        for (String name : doc.fieldNames()) {
            Object v = doc.getValue(name);
            if (v instanceof JsonObject o) {
                documentFields(prefix + name + ".", o, out);
            } else {
                out.add(prefix + name);
            }
        }
    }

    /**
     * How each mapped field departs from its definition: not in ECS nor a documented dozor.* field, or another
     * type, {@code ignore_above} or multi-fields than the definition's. Empty when the mapping conforms.
     */
    public static List<String> departures(Map<String, JsonObject> mapping) {
        return departures(mapping, false);
    }

    /**
     * As {@link #departures(Map)}; with {@code fallbackTypes}, ECS's {@code match_only_text} and {@code wildcard}
     * are expected as {@code text} and {@code keyword} (what the setup installs on an Elasticsearch without the
     * modules of those types, see IndexTemplate.withoutEcsTypes).
     */
    public static List<String> departures(Map<String, JsonObject> mapping, boolean fallbackTypes) {
        List<String> out = new ArrayList<>();
        mapping.forEach((field, m) -> {
            JsonObject def = ecs(field);
            String origin = "ECS " + ECS.getString("ecs_version");
            if (def == null) {
                def = dozor(field);
                origin = "dozor-fields.json";
            }
            if (def == null) {
                out.add(field + ": neither an ECS field nor a documented dozor.* field");
                return;
            }
            if (fallbackTypes) {
                def = new JsonObject(fallback(def.encode()));
            }
            if (!Objects.equals(def.getString("type"), m.getString("type"))) {
                out.add(field + ": type " + m.getString("type") + ", " + origin + " says " + def.getString("type"));
            }
            if (!Objects.equals(def.getInteger("ignore_above"), m.getInteger("ignore_above"))) {
                out.add(field + ": ignore_above " + m.getInteger("ignore_above") + ", " + origin + " says "
                        + def.getInteger("ignore_above"));
            }
            Map<String, String> multi = new TreeMap<>();
            JsonObject fields = m.getJsonObject("fields", new JsonObject());
            fields.fieldNames()
                    .forEach(f -> multi.put(f, fields.getJsonObject(f).getString("type")));
            Map<String, String> wanted = new TreeMap<>();
            JsonObject defMulti = def.getJsonObject("multi_fields", new JsonObject());
            defMulti.fieldNames().forEach(f -> wanted.put(f, defMulti.getString(f)));
            if (!multi.equals(wanted)) {
                out.add(field + ": multi-fields " + multi + ", " + origin + " says " + wanted);
            }
        });
        return out;
    }

    private static String fallback(String json) {
        return json.replace("\"match_only_text\"", "\"text\"").replace("\"wildcard\"", "\"keyword\"");
    }

    /** Whether every node of this Elasticsearch has the modules of match_only_text and wildcard. */
    public static boolean hasEcsTypes(io.dozor.testkit.Elasticsearch es) {
        JsonObject nodes = new JsonObject(es.get("/_nodes/plugins")).getJsonObject("nodes");
        for (String node : nodes.fieldNames()) {
            List<String> modules = new ArrayList<>();
            nodes.getJsonObject(node)
                    .getJsonArray("modules")
                    .forEach(m -> modules.add(((JsonObject) m).getString("name")));
            if (!modules.contains("mapper-extras") || !modules.contains("x-pack-wildcard")) {
                return false;
            }
        }
        return true;
    }

    /** The leaf fields of a template file's mappings. */
    public static Map<String, JsonObject> templateLeaves(JsonObject template) {
        return leaves(
                template.getJsonObject("template").getJsonObject("mappings").getJsonObject("properties"));
    }

    /** Values outside ECS's allowed or expected values for the fields that list them. */
    public static List<String> valueDepartures(JsonObject doc) {
        List<String> out = new ArrayList<>();
        for (String field : documentFields(doc)) {
            JsonObject def = ecs(field);
            if (def == null) {
                continue;
            }
            JsonArray allowed = def.getJsonArray("allowed_values", def.getJsonArray("expected_values"));
            if (allowed == null) {
                continue;
            }
            Object value = valueAt(doc, field);
            List<?> values = value instanceof JsonArray a ? a.getList() : List.of(value);
            for (Object v : values) {
                if (!allowed.contains(v)) {
                    out.add(field + ": " + v + " is not among ECS's values " + allowed);
                }
            }
        }
        return out;
    }

    public static Object valueAt(JsonObject doc, String field) {
        Object at = doc;
        for (String part : field.split("\\.")) {
            at = ((JsonObject) at).getValue(part);
        }
        return at;
    }
}
