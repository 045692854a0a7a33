package io.dozor.server.notify.bot;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.notify.BotApi;
import io.dozor.server.notify.Mute;
import io.dozor.server.notify.NotifyStore;
import io.dozor.server.outbox.Backoff;
import io.dozor.server.rules.Durations;
import io.dozor.server.rules.Senders;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two-way bot: long-polls {@code getUpdates} (no inbound port), answers commands from the configured
 * chats, from the senders {@link Senders} accepts (in groups only those of {@code admin_user_ids}), ignores and
 * logs anything else.
 * The offset is saved in PostgreSQL after each update is handled, so a restart neither loses nor repeats
 * commands. Commands are registered with {@code setMyCommands} at start (retried in the background).
 * Run it in one server instance only: Telegram refuses concurrent {@code getUpdates} for a bot (409).
 */
public final class BotVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(BotVerticle.class);
    static final Duration POLL_TIMEOUT = Duration.ofSeconds(25);
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    static final JsonArray COMMANDS = new JsonArray()
            .add(command("status", "Состояние: агенты, запуски за сегодня, здоровье"))
            .add(command("mute", "Заглушить: /mute [длительность] [user|process|agent] [имя]"))
            .add(command("unmute", "Снять заглушку: /unmute [user|process|agent] [имя]"))
            .add(command("mutes", "Действующие заглушки"))
            .add(command("help", "Справка"));

    private final ServerConfig.Telegram config;
    private final NotifyStore store;
    private final BotApi api;
    private final Clock clock;
    private StatusReport status;
    private final Senders senders;
    private boolean stopped;
    /** Known once getMe answered; until then commands addressed to any bot are taken. */
    private Optional<String> username = Optional.empty();

    private boolean failing;
    private int failures;

    /** {@code api}: the one the chats' sinks use too ({@link BotApi#of}), so they share its rate limits. */
    public BotVerticle(ServerConfig.Telegram config, NotifyStore store, BotApi api, Clock clock) {
        this.config = config;
        this.store = store;
        this.api = api;
        this.clock = clock;
        this.senders = new Senders(config.chatIds(), config.adminUserIds());
    }

    private static JsonObject command(String name, String description) {
        return new JsonObject().put("command", name).put("description", description);
    }

    @Override
    public Future<?> start() {
        status = new StatusReport(store, vertx.eventBus(), config.timeZone(), clock, config.activeWithin());
        registerCommands(0);
        store.botOffset().onComplete(ar -> poll(ar.succeeded() ? ar.result() : 0L));
        log.info("telegram bot polling [chats={}, admins={}]", config.chatIds(), config.adminUserIds());
        if (config.adminUserIds().isEmpty() && config.chatIds().stream().anyMatch(id -> id < 0)) {
            log.warn("the bot obeys no one in group chats until telegram.admin_user_ids lists who may command it");
        }
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        return Future.succeededFuture();
    }

    private void registerCommands(int attempt) {
        api.setMyCommands(COMMANDS)
                .compose(v -> api.getMe())
                .onSuccess(name -> username = Optional.of(name))
                .onFailure(err -> {
                    if (attempt == 0) {
                        log.warn("telegram setMyCommands failed, retrying [error={}]", api.describe(err));
                    }
                    if (!stopped) {
                        vertx.setTimer(Backoff.after(attempt).toMillis(), id -> registerCommands(attempt + 1));
                    }
                });
    }

    private void poll(long offset) {
        if (stopped) {
            return;
        }
        api.getUpdates(offset, POLL_TIMEOUT)
                .compose(updates -> handleAll(updates, 0, offset))
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        if (failing) {
                            log.info("telegram getUpdates recovered");
                        }
                        failing = false;
                        failures = 0;
                        poll(ar.result());
                    } else {
                        if (!failing) {
                            log.warn(
                                    "telegram getUpdates failed, retrying with backoff [error={}]",
                                    api.describe(ar.cause()));
                        }
                        failing = true;
                        if (!stopped) {
                            vertx.setTimer(Backoff.after(failures++).toMillis(), id -> poll(offset));
                        }
                    }
                });
    }

    /** Handles the updates in order, saving the offset after each; the result is the next offset. */
    private Future<Long> handleAll(JsonArray updates, int index, long offset) {
        if (index == updates.size() || stopped) {
            return Future.succeededFuture(offset);
        }
        Object raw = updates.getValue(index);
        Optional<Long> id = raw instanceof JsonObject u && u.getValue("update_id") instanceof Number n
                ? Optional.of(n.longValue())
                : Optional.empty();
        if (id.isEmpty() || id.get() < offset) {
            log.warn("ignored malformed telegram update [update={}]", abbreviate(String.valueOf(raw)));
            return handleAll(updates, index + 1, offset);
        }
        long next = id.get() + 1;
        return handle((JsonObject) raw)
                .recover(err -> {
                    log.error("telegram update not handled [update_id={}, error={}]", id.get(), err.getMessage());
                    return Future.succeededFuture();
                })
                .compose(v -> store.saveBotOffset(next))
                .compose(v -> handleAll(updates, index + 1, next));
    }

    private Future<Void> handle(JsonObject update) {
        Optional<Incoming> in = Incoming.of(update);
        if (in.isEmpty()) {
            log.debug("ignored telegram update without a text message [update_id={}]", update.getValue("update_id"));
            return Future.succeededFuture();
        }
        Incoming m = in.get();
        Optional<String> refusal = senders.refusal(update.getJsonObject("message"));
        if (refusal.isPresent()) {
            log.warn(
                    "ignored telegram message from an unauthorised chat or sender [chat_id={}, user_id={}, reason={}]",
                    m.chatId(),
                    m.userId(),
                    refusal.get());
            return Future.succeededFuture();
        }
        Optional<Command> command = Command.parse(m.text(), config.muteDefault(), username);
        if (command.isEmpty()) {
            return Future.succeededFuture();
        }
        log.info(
                "telegram command [chat_id={}, user_id={}, command={}]",
                m.chatId(),
                m.userId(),
                command.get().getClass().getSimpleName().toLowerCase());
        return answer(command.get(), m)
                .compose(text -> api.sendMessage(m.chatId(), text))
                .compose(result -> result.sent()
                        ? Future.<Void>succeededFuture()
                        : Future.failedFuture("reply not sent: " + result.error()));
    }

    private Future<String> answer(Command command, Incoming m) {
        ZoneId zone = config.timeZone();
        return switch (command) {
            case Command.Help h -> Future.succeededFuture(help());
            case Command.Status s -> status.render();
            case Command.Invalid i -> Future.succeededFuture(i.answer());
            case Command.Mutes x ->
                store.activeMutes(m.chatId())
                        .map(mutes -> mutes.isEmpty()
                                ? "Заглушек нет."
                                : "Заглушки:\n"
                                        + mutes.stream()
                                                .map(mute -> "• " + mute.describe() + " — до "
                                                        + mute.until()
                                                                .atZone(zone)
                                                                .format(TIME))
                                                .collect(Collectors.joining("\n")));
            case Command.MuteCmd mute ->
                store.mute(m.chatId(), mute.kind(), mute.value(), mute.duration(), m.userId())
                        .map(until -> "Заглушено: " + new Mute(mute.kind(), mute.value(), null).describe() + " на "
                                + Durations.format(mute.duration()) + ", до "
                                + until.atZoneSameInstant(zone).format(TIME));
            case Command.Unmute un ->
                store.unmute(m.chatId(), un.kind(), un.value())
                        .map(n -> n == 0 ? "Таких заглушек нет." : "Снято заглушек: " + n);
        };
    }

    private String help() {
        return """
        Dozor — кто какую программу запустил.
        /status — агенты, запуски за сегодня, здоровье PostgreSQL и Elasticsearch
        /mute [длительность] [что] — заглушить уведомления этого чата (без аргументов: всё на %s)
           что: имя (пользователь, программа или агент), user ИМЯ, process ИМЯ, agent ИМЯ
           длительность: 30m, 2h, 1d, 1h30m
        /unmute [что] — снять заглушки (без аргументов: все)
        /mutes — действующие заглушки
        /help — эта справка""".formatted(Durations.format(config.muteDefault()));
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    /** The parts of an update the bot acts on: a text message with its chat and sender. */
    record Incoming(long chatId, long userId, String text) {
        static Optional<Incoming> of(JsonObject update) {
            if (!(update.getValue("message") instanceof JsonObject message)) {
                return Optional.empty();
            }
            if (!(message.getValue("chat") instanceof JsonObject chat)
                    || !(chat.getValue("id") instanceof Number chatId)
                    || !(message.getValue("text") instanceof String text)) {
                return Optional.empty();
            }
            long userId =
                    message.getValue("from") instanceof JsonObject from && from.getValue("id") instanceof Number id
                            ? id.longValue()
                            : 0L;
            return Optional.of(new Incoming(chatId.longValue(), userId, text));
        }
    }

    static List<String> commandNames() {
        return COMMANDS.stream().map(c -> ((JsonObject) c).getString("command")).toList();
    }
}
