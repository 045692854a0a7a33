package io.dozor.server.setup;

import io.dozor.server.config.ConfigException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * {@code setup kibana --url URL}: imports Dozor's data views, visualizations, dashboard and saved
 * search through Kibana's saved-objects API ({@code POST /api/saved_objects/_import?overwrite=true},
 * multipart, with the {@code kbn-xsrf} header), replacing earlier versions of the same objects.
 */
public final class KibanaSetup {
    /** Saved objects in Kibana's export format; the source is the repository's {@code kibana/} directory. */
    public static final String SAVED_OBJECTS = "kibana/dozor-saved-objects.ndjson";

    static final String IMPORT_PATH = "/api/saved_objects/_import?overwrite=true";
    static final String DEFAULT_EVENTS_PATTERN = "dozor-events-*";
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final URI kibana;

    public KibanaSetup(String url) {
        this.kibana = kibanaUrl(url);
    }

    static URI kibanaUrl(String url) {
        try {
            URI uri = new URI(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                throw new ConfigException("--url: must be Kibana's http(s) base URL, got \"" + url + "\"");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new ConfigException("--url: must be Kibana's http(s) base URL, got \"" + url + "\"");
        }
    }

    /** The saved objects with the events data view pointed at {@code <prefix>-*}. */
    public static String savedObjects(String eventsPrefix) {
        return Classpath.text(SAVED_OBJECTS)
                .replace("\"" + DEFAULT_EVENTS_PATTERN + "\"", "\"" + eventsPrefix + "-*\"");
    }

    /** Imports the objects; returns a line for the operator, or throws naming what Kibana refused. */
    public String importObjects(String ndjson) {
        String boundary = "dozor-" + UUID.randomUUID();
        HttpRequest request = HttpRequest.newBuilder(URI.create(kibana + IMPORT_PATH))
                .timeout(TIMEOUT)
                .header("kbn-xsrf", "dozor-setup")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(multipart(boundary, "dozor.ndjson", ndjson)))
                .build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new SetupException("Kibana unreachable at " + kibana + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted");
        }
        if (response.statusCode() != 200) {
            throw new SetupException("Kibana " + kibana + " refused the import: HTTP " + response.statusCode() + " "
                    + SetupException.abbreviate(response.body()));
        }
        JsonObject answer;
        try {
            answer = new JsonObject(response.body());
        } catch (RuntimeException e) {
            throw new SetupException("Kibana " + kibana + " answered the import with something else than JSON: "
                    + SetupException.abbreviate(response.body()));
        }
        if (!answer.getBoolean("success", false)) {
            throw new SetupException("Kibana " + kibana + " refused some saved objects: " + errors(answer));
        }
        return "kibana saved objects imported [count=" + answer.getInteger("successCount", 0) + ", url=" + kibana + "]";
    }

    private static List<String> errors(JsonObject answer) {
        List<String> errors = new ArrayList<>();
        JsonArray list = answer.getJsonArray("errors", new JsonArray());
        for (int i = 0; i < list.size(); i++) {
            JsonObject e = list.getJsonObject(i);
            errors.add(e.getString("type") + "/" + e.getString("id") + ": " + e.getValue("error"));
        }
        return errors;
    }

    static byte[] multipart(String boundary, String filename, String content) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        String head = "--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"file\"; filename=\"" + filename + "\"\r\n"
                + "Content-Type: application/ndjson\r\n\r\n";
        body.writeBytes(head.getBytes(StandardCharsets.UTF_8));
        body.writeBytes(content.getBytes(StandardCharsets.UTF_8));
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return body.toByteArray();
    }
}
