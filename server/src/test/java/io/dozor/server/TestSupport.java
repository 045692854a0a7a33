package io.dozor.server;

import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.FakeTelegram;
import io.dozor.testkit.PostgresDatabase;
import io.dozor.testkit.Wait;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** One test's world: a fresh database, a fake Bot API, settings to adjust, then a server on them. */
final class TestSupport implements AutoCloseable {
    static final String BOT_TOKEN = "4242:TEST-token";
    static final Duration DELIVERY = Duration.ofSeconds(30);

    final Path dir;
    final PostgresDatabase db = PostgresDatabase.create();
    final FakeTelegram telegram = FakeTelegram.start(BOT_TOKEN);
    final Map<String, String> env;
    TestServer server;
    String token;

    TestSupport(Path dir, List<Long> chats) {
        this.dir = dir;
        env = TestServer.env(
                db.url(),
                Elasticsearch.shared().url(),
                DevCertificates.generate(dir.resolve("tls")),
                dir.resolve("logs"));
        env.put("DOZOR_TELEGRAM_API_URL", telegram.apiUrl());
        env.put("DOZOR_TELEGRAM_BOT_TOKEN", BOT_TOKEN);
        env.put(
                "DOZOR_TELEGRAM_CHAT_IDS",
                String.join(",", chats.stream().map(String::valueOf).toList()));
        env.put("DOZOR_TELEGRAM_TIME_ZONE", "Europe/Moscow");
    }

    void start() {
        start(null);
    }

    void start(Path yaml) {
        server = new TestServer(env, Optional.ofNullable(yaml));
        if (token == null) {
            token = server.token("pc-01");
        }
    }

    /** Each launch is {time of 2026-11-27 in Moscow, user, process}; all in one batch from pc-01. */
    void postLaunches(List<String[]> launches) {
        JsonArray events = new JsonArray();
        for (String[] l : launches) {
            events.add(event(l[0], l[1], l[2], "PC-01"));
        }
        post(events);
    }

    void postLaunch(String time, String user, String process, String host) {
        post(new JsonArray().add(event(time, user, process, host)));
    }

    private void post(JsonArray events) {
        var response = server.post(
                "/api/v1/events", token, new JsonObject().put("events", events).encode());
        if (response.statusCode() != 200) {
            throw new AssertionError("batch refused: " + response.statusCode() + " " + response.body());
        }
    }

    private static JsonObject event(String time, String user, String process, String host) {
        return new JsonObject()
                .put("event_id", UUID.randomUUID().toString())
                .put("timestamp", "2026-11-27T" + time + "+03:00")
                .put("username", user)
                .put("process_name", process)
                .put("pid", 4312)
                .put("executable", "C:\\Apps\\" + process)
                .put("hostname", host);
    }

    /** Nothing left to decide or send (parked rows aside): counts taken now are final. */
    void awaitDrained() {
        Wait.until("a drained outbox", DELIVERY, () -> db.count("outbox WHERE next_attempt_at <> 'infinity'") == 0);
    }

    List<String> sentContaining(String part) {
        List<String> out = new ArrayList<>();
        telegram.messages().stream()
                .map(FakeTelegram.Sent::text)
                .filter(t -> t.contains(part))
                .forEach(out::add);
        return out;
    }

    @Override
    public void close() {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            telegram.close();
            db.close();
        }
    }
}
