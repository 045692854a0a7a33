package io.dozor.server.setup;

import io.dozor.server.config.ServerConfig;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code setup elasticsearch}: installs (or replaces, so it can run any number of times) every index
 * template Dozor owns, on the first configured Elasticsearch URL that answers.
 */
public final class ElasticsearchSetup {
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final ServerConfig.Elasticsearch config;

  public ElasticsearchSetup(ServerConfig.Elasticsearch config) {
    this.config = config;
  }

  /** Installs every template; returns one line per template for the operator. */
  public List<String> install() {
    List<String> done = new ArrayList<>();
    for (IndexTemplate template : IndexTemplate.values()) {
      String name = template.name(config.indexPrefix());
      String json = template.json(config.indexPrefix());
      try {
        put("/_index_template/" + name, json);
        done.add("index template " + name + " installed (" + template.resource() + ")");
      } catch (SetupException e) {
        if (!IndexTemplate.lacksEcsTypes(e.getMessage())) {
          throw e;
        }
        put("/_index_template/" + name, IndexTemplate.withoutEcsTypes(json));
        done.add("index template " + name + " installed (" + template.resource() + ") with text and keyword for "
            + "match_only_text and wildcard: this Elasticsearch lacks the modules mapper-extras and x-pack-wildcard");
      }
    }
    return done;
  }

  private void put(String path, String json) {
    List<String> failures = new ArrayList<>();
    for (URI base : config.urls()) {
      HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT)
          .header("Content-Type", "application/json")
          .PUT(HttpRequest.BodyPublishers.ofString(json)).build();
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 == 2) {
          return;
        }
        // Elasticsearch answered: the template itself is refused, another node would say the same
        throw new SetupException("Elasticsearch " + base + " refused " + path + ": HTTP " + response.statusCode()
            + " " + reason(response.body()));
      } catch (IOException e) {
        failures.add(base + ": " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SetupException("interrupted");
      }
    }
    throw new SetupException("Elasticsearch unreachable " + failures);
  }

  /** Elasticsearch's innermost reason ({@code error.caused_by…reason}), else the body abbreviated. */
  static String reason(String body) {
    try {
      JsonObject error = new JsonObject(body).getJsonObject("error");
      String reason = SetupException.abbreviate(body);
      while (error != null) {
        reason = error.getString("type") + ": " + error.getString("reason");
        error = error.getJsonObject("caused_by");
      }
      return reason;
    } catch (RuntimeException e) {
      return SetupException.abbreviate(body);
    }
  }
}
