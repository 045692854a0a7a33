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

  /** The template body, with {@code ${prefix}} replaced by the events index prefix. */
  public String json(String eventsPrefix) {
    return Classpath.text(resource).replace("${prefix}", eventsPrefix);
  }
}
