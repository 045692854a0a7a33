package io.dozor.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Telegram Bot API server for tests, speaking its HTTP protocol on 127.0.0.1: {@code sendMessage},
 * {@code getUpdates} (long polling with offset), {@code setMyCommands}, {@code getMe}. Only the bot
 * token it was started with is accepted. Scripted failures answer as Telegram does, including 429
 * with {@code parameters.retry_after}, 403 for a chat that blocked the bot, and 502 during an outage.
 */
public final class FakeTelegram implements AutoCloseable {
    private static final Pattern PATH = Pattern.compile("^/bot([^/]+)/([A-Za-z]+)$");

    /** A message the bot sent, as received. */
    public record Sent(long chatId, String text, String parseMode, Instant at) {}

    /** Every sendMessage call, answered or refused, and the status it got. */
    public record Attempt(long chatId, String text, int status, Instant at) {}

    private record Failure(int status, String description, Integer retryAfter, Predicate<String> matches) {}

    private final HttpServer server;
    private final String token;
    private final List<Sent> sent = new ArrayList<>();
    private final List<Attempt> attempts = new ArrayList<>();
    private final List<Failure> failures = new ArrayList<>();
    private final List<JsonObject> updates = new ArrayList<>();
    private JsonArray commands = new JsonArray();
    private long nextUpdateId = 1;
    private boolean down;
    private final java.util.Set<Long> blocked = new java.util.HashSet<>();

    private FakeTelegram(String token) throws IOException {
        this.token = token;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-telegram");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    public static FakeTelegram start(String botToken) {
        try {
            return new FakeTelegram(botToken);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The value for the server's {@code telegram.api_url}. */
    public String apiUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public synchronized List<Sent> messages() {
        return List.copyOf(sent);
    }

    public synchronized List<Attempt> attempts() {
        return List.copyOf(attempts);
    }

    public synchronized JsonArray registeredCommands() {
        return commands.copy();
    }

    /** The next {@code times} sendMessage calls answer 429 "retry after {@code seconds}". */
    public void tooManyRequests(int times, int seconds) {
        tooManyRequests(times, seconds, text -> true);
    }

    /** As {@link #tooManyRequests(int, int)}, but only for messages whose text {@code matches}. */
    public synchronized void tooManyRequests(int times, int seconds, Predicate<String> matches) {
        for (int i = 0; i < times; i++) {
            failures.add(new Failure(429, "Too Many Requests: retry after " + seconds, seconds, matches));
        }
    }

    /** The next {@code times} sendMessage calls answer {@code status} with {@code description}. */
    public void fail(int times, int status, String description) {
        fail(times, status, description, text -> true);
    }

    /** As {@link #fail(int, int, String)}, but only for messages whose text {@code matches}. */
    public synchronized void fail(int times, int status, String description, Predicate<String> matches) {
        for (int i = 0; i < times; i++) {
            failures.add(new Failure(status, description, null, matches));
        }
    }

    /** While down, every method answers 502 Bad Gateway (as Telegram does during an outage). */
    public synchronized void outage(boolean down) {
        this.down = down;
    }

    /** sendMessage to this chat answers 403 "bot was blocked by the user" from now on. */
    public synchronized void block(long chatId) {
        blocked.add(chatId);
    }

    /** sendMessage to this chat works again. */
    public synchronized void unblock(long chatId) {
        blocked.remove(chatId);
    }

    /** Queues a text message from {@code userId} in {@code chatId}; returns its update_id. */
    public long addMessage(long chatId, long userId, String text) {
        return addUpdate(new JsonObject()
                .put(
                        "message",
                        new JsonObject()
                                .put("message_id", nextUpdateId)
                                .put("date", Instant.now().getEpochSecond())
                                .put(
                                        "chat",
                                        new JsonObject()
                                                .put("id", chatId)
                                                .put("type", chatId < 0 ? "supergroup" : "private"))
                                .put(
                                        "from",
                                        new JsonObject()
                                                .put("id", userId)
                                                .put("is_bot", false)
                                                .put("first_name", "Admin"))
                                .put("text", text)));
    }

    /** Updates not yet confirmed by a getUpdates with a larger offset. */
    public synchronized int pendingUpdates() {
        return updates.size();
    }

    /** Queues an incoming update (a message from a user); its update_id is assigned here. */
    public synchronized long addUpdate(JsonObject update) {
        long id = nextUpdateId++;
        updates.add(update.copy().put("update_id", id));
        notifyAll();
        return id;
    }

    /** Waits until at least {@code n} messages were sent; returns them all. */
    public List<Sent> awaitMessages(int n, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        synchronized (this) {
            while (sent.size() < n) {
                long left = Duration.between(Instant.now(), deadline).toMillis();
                if (left <= 0) {
                    throw new AssertionError("expected " + n + " telegram messages within " + timeout + ", got "
                            + sent.size() + ": " + sent);
                }
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
            return List.copyOf(sent);
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Matcher m = PATH.matcher(exchange.getRequestURI().getPath());
            if (!m.matches()) {
                reply(exchange, 404, error(404, "Not Found", null));
                return;
            }
            if (!m.group(1).equals(token)) {
                reply(exchange, 401, error(401, "Unauthorized", null));
                return;
            }
            synchronized (this) {
                if (down) {
                    reply(exchange, 502, error(502, "Bad Gateway", null));
                    return;
                }
            }
            JsonObject params = params(exchange);
            if (params == null) {
                reply(exchange, 400, error(400, "Bad Request: can't parse JSON object", null));
                return;
            }
            JsonObject answer = switch (m.group(2)) {
                case "sendMessage" -> sendMessage(params);
                case "getUpdates" -> getUpdates(params);
                case "setMyCommands" -> setMyCommands(params);
                case "getMe" ->
                    ok(new JsonObject().put("id", 1).put("is_bot", true).put("username", "dozor_test_bot"));
                default -> error(404, "Not Found: method not found", null);
            };
            reply(exchange, answer.getBoolean("ok") ? 200 : answer.getInteger("error_code"), answer);
        }
    }

    private synchronized JsonObject sendMessage(JsonObject params) {
        Object chat = params.getValue("chat_id");
        String text = params.getString("text");
        long chatId;
        try {
            chatId = Long.parseLong(String.valueOf(chat));
        } catch (NumberFormatException e) {
            return error(400, "Bad Request: chat not found", null);
        }
        if (text == null || text.isEmpty()) {
            return error(400, "Bad Request: message text is empty", null);
        }
        if (text.length() > 4096) {
            return error(400, "Bad Request: message is too long", null);
        }
        Instant now = Instant.now();
        if (blocked.contains(chatId)) {
            attempts.add(new Attempt(chatId, text, 403, now));
            return error(403, "Forbidden: bot was blocked by the user", null);
        }
        Failure failure = failures.stream()
                .filter(f -> f.matches().test(text))
                .findFirst()
                .orElse(null);
        if (failure != null) {
            failures.remove(failure);
            attempts.add(new Attempt(chatId, text, failure.status(), now));
            return error(failure.status(), failure.description(), failure.retryAfter());
        }
        attempts.add(new Attempt(chatId, text, 200, now));
        sent.add(new Sent(chatId, text, params.getString("parse_mode"), now));
        notifyAll();
        return ok(new JsonObject()
                .put("message_id", sent.size())
                .put("chat", new JsonObject().put("id", chatId))
                .put("date", now.getEpochSecond())
                .put("text", text));
    }

    private synchronized JsonObject getUpdates(JsonObject params) {
        long offset = Long.parseLong(String.valueOf(params.getValue("offset", 0)));
        long timeoutSeconds = Math.min(Long.parseLong(String.valueOf(params.getValue("timeout", 0))), 50);
        updates.removeIf(u -> u.getLong("update_id") < offset);
        Instant deadline = Instant.now().plusSeconds(timeoutSeconds);
        while (updates.isEmpty() && Instant.now().isBefore(deadline)) {
            try {
                wait(Math.max(1, Duration.between(Instant.now(), deadline).toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return ok(new JsonArray(new ArrayList<>(updates)));
    }

    private synchronized JsonObject setMyCommands(JsonObject params) {
        commands = params.getJsonArray("commands", new JsonArray());
        return ok(true);
    }

    private static JsonObject params(HttpExchange exchange) throws IOException {
        JsonObject params = new JsonObject();
        String query = exchange.getRequestURI().getRawQuery();
        if (query != null) {
            form(query, params);
        }
        byte[] body = exchange.getRequestBody().readAllBytes();
        if (body.length == 0) {
            return params;
        }
        String contentType = String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type"));
        String text = new String(body, StandardCharsets.UTF_8);
        if (contentType.startsWith("application/json")) {
            try {
                return params.mergeIn(new JsonObject(text));
            } catch (RuntimeException e) {
                return null;
            }
        }
        form(text, params);
        return params;
    }

    private static void form(String encoded, JsonObject into) {
        for (String pair : encoded.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                into.put(
                        URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
    }

    private static JsonObject ok(Object result) {
        return new JsonObject().put("ok", true).put("result", result);
    }

    private static JsonObject error(int code, String description, Integer retryAfter) {
        JsonObject e = new JsonObject().put("ok", false).put("error_code", code).put("description", description);
        if (retryAfter != null) {
            e.put("parameters", new JsonObject().put("retry_after", retryAfter));
        }
        return e;
    }

    private static void reply(HttpExchange exchange, int status, JsonObject body) throws IOException {
        byte[] bytes = body.encode().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        synchronized (this) {
            notifyAll();
        }
        server.stop(0);
    }
}
