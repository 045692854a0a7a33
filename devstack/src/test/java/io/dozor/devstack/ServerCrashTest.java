package io.dozor.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Verifies, by counting, that killing the server with SIGKILL under load loses nothing and doubles
 * nothing: every batch acknowledged before or after the crash is in PostgreSQL exactly once and in
 * Elasticsearch exactly once. Senders behave like agents: a batch is resent until a 2xx.
 */
@EnabledOnOs(OS.LINUX)
class ServerCrashTest {
    static final String AGENT_ID = "crash-agent";
    static final int SENDERS = 4;
    static final int BATCH = 50;

    @RegisterExtension
    static final RunningStack system = RunningStack.in("crash")
            .agent(AGENT_ID, "never-launched-program", 1000)
            .build();

    @Test
    void killingTheServerUnderLoadLosesNothingAndDoublesNothing() throws Exception {
        Stack stack = system.stack();
        HttpClient http = HttpClient.newBuilder()
                .sslContext(stack.clientTls())
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        Set<UUID> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicBoolean sending = new AtomicBoolean(true);
        AtomicInteger refusals = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(SENDERS);
        List<Future<?>> senders = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
            senders.add(pool.submit(() -> {
                while (sending.get()) {
                    List<UUID> ids = new ArrayList<>();
                    for (int i = 0; i < BATCH; i++) {
                        ids.add(UUID.randomUUID());
                    }
                    sendUntilAcknowledged(http, ids, refusals);
                    acknowledged.addAll(ids);
                }
                return null;
            }));
        }

        Wait.until("load before the crash", Duration.ofSeconds(60), () -> acknowledged.size() >= 2_000);
        stack.killServer();
        int beforeRestart = acknowledged.size();
        stack.restartServer();
        Wait.until(
                "load after the restart", Duration.ofSeconds(60), () -> acknowledged.size() >= beforeRestart + 2_000);
        sending.set(false);
        for (Future<?> sender : senders) {
            sender.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();

        Set<UUID> stored = new HashSet<>();
        system.db().query("SELECT event_id FROM events").forEach(row -> stored.add((UUID) row.get("event_id")));
        assertThat(stored).as("PostgreSQL holds exactly what was acknowledged").isEqualTo(acknowledged);
        assertThat(system.db().count("events")).as("no event stored twice").isEqualTo(acknowledged.size());

        Wait.until("Elasticsearch to catch up", Duration.ofSeconds(120), () -> indexed() == acknowledged.size());
        Wait.until(
                "the outbox to drain", Duration.ofSeconds(60), () -> system.db().count("outbox") == 0);
        assertThat(indexed()).as("each event indexed once").isEqualTo(acknowledged.size());
        assertThat(refusals.get()).as("the crash was felt by the senders").isPositive();
    }

    static long indexed() {
        system.es().request("POST", "/dozor-events-*/_refresh", null);
        String query = new JsonObject()
                .put("query", new JsonObject().put("term", new JsonObject().put("agent.id", AGENT_ID)))
                .encode();
        return new JsonObject(system.es().post("/dozor-events-*/_count", query)).getLong("count");
    }

    /** Like the agent: the same batch (same event ids) again until a 2xx, with a short pause. */
    static void sendUntilAcknowledged(HttpClient http, List<UUID> ids, AtomicInteger refusals)
            throws InterruptedException {
        Stack stack = system.stack();
        JsonArray events = new JsonArray();
        String now = Instant.now().toString();
        for (UUID id : ids) {
            events.add(new JsonObject()
                    .put("event_id", id.toString())
                    .put("timestamp", now)
                    .put("username", "load")
                    .put("process_name", "crashtest.exe")
                    .put("hostname", "PC-CRASH"));
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create(stack.url() + "/api/v1/events"))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + stack.agentToken())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        new JsonObject().put("events", events).encode()))
                .build();
        Instant deadline = Instant.now().plusSeconds(120);
        while (Instant.now().isBefore(deadline)) {
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                assertThat(response.statusCode()).as(response.body()).isIn(429, 503);
            } catch (IOException e) {
                // the server is down or the connection died with it: resend
            }
            refusals.incrementAndGet();
            Thread.sleep(100);
        }
        throw new AssertionError("a batch was never acknowledged");
    }
}
