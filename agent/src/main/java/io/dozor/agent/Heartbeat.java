package io.dozor.agent;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST {url}/api/v1/heartbeat} with the version, host name, spool depth, the dropped and
 * unpersisted counts and the spool's error; the
 * server keeps the last one per agent (for {@code /status} and the silent-agent alert). A failed heartbeat
 * is logged at debug only: the shipper already says when the server is unreachable.
 */
final class Heartbeat {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);

    /**
     * What a heartbeat says.
     *
     * @param unpersistedEvents launches lost because the spool could not store them
     * @param spoolError        why the spool cannot store events now ({@code disk full}, ...), null while it works
     */
    record Report(
            String version,
            String hostname,
            long spoolDepth,
            long droppedEvents,
            long unpersistedEvents,
            String spoolError) {}

    private final ServerClient client;
    private final URI endpoint;
    private final Supplier<Report> report;

    Heartbeat(ServerClient client, Supplier<Report> report) {
        this.client = client;
        this.endpoint = client.endpoint("/api/v1/heartbeat");
        this.report = report;
    }

    /** Sends one heartbeat; true when the server answered 2xx. */
    boolean send() {
        Report now = report.get();
        try {
            int status = client.post(endpoint, EventJson.heartbeat(now), REQUEST_TIMEOUT)
                    .status();
            if (status / 100 == 2) {
                log.debug("heartbeat sent [spool_depth={}, dropped_events={}]", now.spoolDepth(), now.droppedEvents());
                return true;
            }
            log.debug("heartbeat refused [status={}]", status);
        } catch (IOException e) {
            log.debug("heartbeat failed [error={}]", e.toString());
        }
        return false;
    }
}
