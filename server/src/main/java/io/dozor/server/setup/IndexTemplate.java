package io.dozor.server.setup;

/**
 * The index templates Dozor owns, read from the jar (their source is the repository's
 * {@code elasticsearch/} directory). The events template follows the configured index prefix.
 */
public enum IndexTemplate {
    EVENTS("elasticsearch/events-template.json"),
    LOGS("elasticsearch/logs-template.json"),
    HEARTBEATS("elasticsearch/heartbeats-template.json");

    /** Logstash writes the logs to {@code dozor-logs-YYYY.MM.dd}. */
    public static final String LOGS_PREFIX = "dozor-logs";
    /** The server indexes the agents' heartbeats into {@code dozor-heartbeats-YYYY.MM}. */
    public static final String HEARTBEATS_PREFIX = "dozor-heartbeats";

    /**
     * The fixed prefix whose indices {@code <eventsPrefix>-*} would also cover, or that would cover the events
     * indices, if any. Two templates of one priority on overlapping patterns are refused by Elasticsearch (the
     * second install fails), and the events data view would show logs or heartbeats: {@code dozor} gives
     * {@code dozor-*}, which holds {@code dozor-logs-*}. Wildcard patterns {@code a*} and {@code b*} overlap exactly
     * when one of {@code a}, {@code b} starts with the other.
     */
    public static java.util.Optional<String> overlap(String eventsPrefix) {
        String events = eventsPrefix + "-";
        for (String fixed : java.util.List.of(LOGS_PREFIX, HEARTBEATS_PREFIX)) {
            String other = fixed + "-";
            if (events.startsWith(other) || other.startsWith(events)) {
                return java.util.Optional.of(fixed);
            }
        }
        return java.util.Optional.empty();
    }

    /** Why {@code eventsPrefix} cannot be the events index prefix, or empty when it can. */
    public static java.util.Optional<String> overlapProblem(String eventsPrefix) {
        return overlap(eventsPrefix)
                .map(fixed -> "\"" + eventsPrefix + "-*\" overlaps \"" + fixed + "-*\" (Dozor's own "
                        + "indices): choose a prefix that neither starts with \"" + fixed
                        + "-\" nor is a start of it, e.g. "
                        + "\"dozor-events\"");
    }

    private final String resource;

    IndexTemplate(String resource) {
        this.resource = resource;
    }

    public String resource() {
        return resource;
    }

    /** The template's name in Elasticsearch: the index prefix it covers. */
    public String name(String eventsPrefix) {
        return switch (this) {
            case EVENTS -> eventsPrefix;
            case LOGS -> LOGS_PREFIX;
            case HEARTBEATS -> HEARTBEATS_PREFIX;
        };
    }

    /**
     * Whether Elasticsearch refused a template because it lacks the module of an ECS field type:
     * {@code match_only_text} (module mapper-extras) or {@code wildcard} (x-pack-wildcard). Every distribution
     * Elastic ships for use has both; the minimal one (the integ-test zip the tests run) has neither.
     */
    public static boolean lacksEcsTypes(String refusal) {
        return refusal != null
                && refusal.contains("does not exist")
                && (refusal.contains("[match_only_text]") || refusal.contains("[wildcard]"));
    }

    /**
     * The template for an Elasticsearch without those modules: {@code match_only_text} becomes {@code text} and
     * {@code wildcard} becomes {@code keyword}, the types ECS names as their fallbacks; field names and every
     * other type stay as ECS has them.
     */
    public static String withoutEcsTypes(String json) {
        return json.replace("\"type\": \"match_only_text\"", "\"type\": \"text\"")
                .replace("\"type\": \"wildcard\"", "\"type\": \"keyword\"");
    }

    /** The template body, with {@code ${prefix}} replaced by the events index prefix. */
    public String json(String eventsPrefix) {
        return Classpath.text(resource).replace("${prefix}", eventsPrefix);
    }
}
