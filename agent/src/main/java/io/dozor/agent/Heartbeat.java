package io.dozor.agent;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST {url}/api/v1/heartbeat} with the version, host name, spool depth and dropped count; the
 * server keeps the last one per agent (for {@code /status} and the silent-agent alert). A failed heartbeat
 * is logged at debug only: the shipper already says when the server is unreachable.
 */
final class Heartbeat {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);

    /** What a heartbeat says. */
    record Report(String version, String hostname, long spoolDepth, long droppedEvents) {
        Map<String, Object> json() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("version", version);
            body.put("hostname", hostname);
            body.put("spool_depth", spoolDepth);
            body.put("dropped_events", droppedEvents);
            return body;
        }
    }

    private final URI endpoint;
    private final String authorization;
    private final HttpClient client;
    private final Supplier<Report> report;

    Heartbeat(URI serverUrl, String token, HttpClient client, Supplier<Report> report) {
        this.endpoint = EventShipper.endpoint(serverUrl, "/api/v1/heartbeat");
        this.authorization = "Bearer " + token;
        this.client = client;
        this.report = report;
    }

    /** Sends one heartbeat; true when the server answered 2xx. */
    boolean send() {
        Report now = report.get();
        try {
            HttpRequest request = HttpRequest.newBuilder(endpoint)
                    .timeout(REQUEST_TIMEOUT)
                    .header("Authorization", authorization)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(EventJson.mapper().writeValueAsBytes(now.json())))
                    .build();
            int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status / 100 == 2) {
                log.debug("heartbeat sent [spool_depth={}, dropped_events={}]", now.spoolDepth(), now.droppedEvents());
                return true;
            }
            log.debug("heartbeat refused [status={}]", status);
        } catch (IOException e) {
            log.debug("heartbeat failed [error={}]", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }
}
