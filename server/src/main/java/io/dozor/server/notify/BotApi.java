package io.dozor.server.notify;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The Bot API methods Dozor uses, over one {@link WebClient}. Every {@code sendMessage} waits for its
 * slot in the shared {@link RateLimiter}, is sent as plain text (no parse mode: any name arrives
 * verbatim) and split at 4096 characters; its answer is classified once, here.
 */
public final class BotApi {
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /**
     * How a send ended: delivered, worth retrying (after {@code retryAfter} when Telegram said so), or
     * hopeless: for the whole chat (GONE: 403, or a 400 about the chat) or for this message only (REFUSED:
     * any other 400, e.g. a text Telegram will not take).
     */
    public record Result(Kind kind, Duration retryAfter, String error) {
        public enum Kind {
            SENT,
            RETRY,
            GONE,
            REFUSED
        }

        static final Result SENT = new Result(Kind.SENT, Duration.ZERO, null);

        public boolean sent() {
            return kind == Kind.SENT;
        }
    }

    private final Vertx vertx;
    private final WebClient client;
    private final String base;
    private final String botToken;
    private final RateLimiter limiter;

    public BotApi(Vertx vertx, WebClient client, URI apiUrl, String botToken, RateLimiter limiter) {
        this.vertx = vertx;
        this.client = client;
        this.base = apiUrl + "/bot" + botToken + "/";
        this.botToken = botToken;
        this.limiter = limiter;
    }

    /**
     * The configured bot's API, on a client of its own, with the one {@link RateLimiter} of this process (every
     * chat's sink and the bot share it); empty without a bot token.
     */
    public static Optional<BotApi> of(Vertx vertx, ServerConfig.Telegram config, Clock clock) {
        return config.botToken()
                .map(token -> new BotApi(
                        vertx,
                        WebClient.create(
                                vertx,
                                new WebClientOptions()
                                        .setUserAgent("dozor-server")
                                        .setConnectTimeout(5_000)),
                        config.apiUrl(),
                        token,
                        new RateLimiter(clock)));
    }

    /**
     * An error's message without the bot token: a client timeout names the request URL, which holds the
     * token, and these messages end up in logs and in the outbox's {@code last_error} column.
     */
    public String describe(Throwable err) {
        return String.valueOf(err.getMessage()).replace(botToken, "<bot-token>");
    }

    /** Sends {@code text} (in pieces when longer than Telegram allows); stops at the first piece refused. */
    public Future<Result> sendMessage(long chatId, String text) {
        return sendParts(chatId, TextSplitter.split(text, TextSplitter.TELEGRAM_LIMIT), 0);
    }

    private Future<Result> sendParts(long chatId, List<String> parts, int index) {
        if (index == parts.size()) {
            return Future.succeededFuture(Result.SENT);
        }
        JsonObject body = new JsonObject()
                .put("chat_id", chatId)
                .put("text", parts.get(index))
                .put("link_preview_options", new JsonObject().put("is_disabled", true));
        return limiter.acquire(vertx, chatId)
                .compose(v -> call("sendMessage", body, REQUEST_TIMEOUT))
                .map(response -> classify(chatId, response))
                .otherwise(err -> new Result(Result.Kind.RETRY, null, "telegram unreachable: " + describe(err)))
                .compose(
                        result -> result.sent() ? sendParts(chatId, parts, index + 1) : Future.succeededFuture(result));
    }

    private Result classify(long chatId, HttpResponse<Buffer> response) {
        int status = response.statusCode();
        JsonObject answer = json(response);
        if (status == 200 && answer.getBoolean("ok", false)) {
            return Result.SENT;
        }
        String error = status + " " + answer.getString("description", "HTTP " + status);
        if (status == 429) {
            long seconds = answer.getJsonObject("parameters", new JsonObject()).getLong("retry_after", 1L);
            Duration after = Duration.ofSeconds(Math.max(1, seconds));
            limiter.pause(chatId, after);
            Meters.telegramRateLimited(after);
            return new Result(Result.Kind.RETRY, after, error);
        }
        if (status == 403 || (status == 400 && aboutTheChat(answer.getString("description", "")))) {
            return new Result(Result.Kind.GONE, null, error);
        }
        if (status == 400) {
            return new Result(Result.Kind.REFUSED, null, error);
        }
        return new Result(Result.Kind.RETRY, null, error);
    }

    /**
     * Whether a 400's description is about the chat rather than the message: "chat not found", "group chat
     * was upgraded to a supergroup chat", "not enough rights to send text messages to the chat",
     * "PEER_ID_INVALID", "CHAT_WRITE_FORBIDDEN"…
     */
    static boolean aboutTheChat(String description) {
        String d = description.toLowerCase(java.util.Locale.ROOT);
        return d.contains("chat") || d.contains("peer") || d.contains("rights") || d.contains("bot was");
    }

    /** Long polling: the updates after {@code offset}, waiting up to {@code timeout} for one. */
    public Future<JsonArray> getUpdates(long offset, Duration timeout) {
        JsonObject body = new JsonObject()
                .put("offset", offset)
                .put("timeout", timeout.toSeconds())
                .put("allowed_updates", new JsonArray().add("message"));
        return call("getUpdates", body, timeout.plus(REQUEST_TIMEOUT)).map(response -> {
            JsonObject answer = json(response);
            if (response.statusCode() != 200 || !answer.getBoolean("ok", false)) {
                throw new IllegalStateException(
                        "getUpdates: " + response.statusCode() + " " + answer.getString("description", ""));
            }
            Object result = answer.getValue("result");
            if (!(result instanceof JsonArray updates)) {
                throw new IllegalStateException("getUpdates: result is not a list");
            }
            return updates;
        });
    }

    /** The bot's own user name (to tell {@code /status@this_bot} from commands meant for other bots). */
    public Future<String> getMe() {
        return call("getMe", new JsonObject(), REQUEST_TIMEOUT).map(response -> {
            String username =
                    json(response).getJsonObject("result", new JsonObject()).getString("username");
            if (response.statusCode() != 200 || username == null) {
                throw new IllegalStateException(
                        "getMe: " + response.statusCode() + " " + json(response).getString("description", ""));
            }
            return username;
        });
    }

    public Future<Void> setMyCommands(JsonArray commands) {
        return call("setMyCommands", new JsonObject().put("commands", commands), REQUEST_TIMEOUT)
                .map(response -> {
                    if (response.statusCode() != 200) {
                        throw new IllegalStateException("setMyCommands: " + response.statusCode() + " "
                                + json(response).getString("description", ""));
                    }
                    return null;
                });
    }

    private Future<HttpResponse<Buffer>> call(String method, JsonObject body, Duration timeout) {
        return client.postAbs(base + method).timeout(timeout.toMillis()).sendJsonObject(body);
    }

    private static JsonObject json(HttpResponse<Buffer> response) {
        try {
            JsonObject json = response.bodyAsJsonObject();
            return json == null ? new JsonObject() : json;
        } catch (RuntimeException e) {
            return new JsonObject();
        }
    }
}
