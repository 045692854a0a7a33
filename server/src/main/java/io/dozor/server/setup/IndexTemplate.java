package io.dozor.server.setup;

/**
 * The index templates Dozor owns, read from the jar (their source is the repository's
 * {@code elasticsearch/} directory). The events template follows the configured index prefix.
 */
public enum IndexTemplate {
  EVENTS("elasticsearch/events-template.json"),
  LOGS("elasticsearch/logs-template.json");

  /** Logstash writes the logs to {@code dozor-logs-YYYY.MM.dd}. */
  public static final String LOGS_PREFIX = "dozor-logs";

  private final String resource;

  IndexTemplate(String resource) {
    this.resource = resource;
  }

  public String resource() {
    return resource;
  }

  /** The template's name in Elasticsearch: the index prefix it covers. */
  public String name(String eventsPrefix) {
    return this == EVENTS ? eventsPrefix : LOGS_PREFIX;
  }

  /**
   * Whether Elasticsearch refused a template because it lacks the module of an ECS field type:
   * {@code match_only_text} (module mapper-extras) or {@code wildcard} (x-pack-wildcard). Every distribution
   * Elastic ships for use has both; the minimal one (the integ-test zip the tests run) has neither.
   */
  public static boolean lacksEcsTypes(String refusal) {
    return refusal != null && refusal.contains("does not exist")
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
