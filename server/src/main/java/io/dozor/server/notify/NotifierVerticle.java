package io.dozor.server.notify;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.outbox.OutboxWorker;
import io.dozor.server.outbox.Sink;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds every configured Telegram chat (or, with no bot token, the log) from the outbox, with the filters
 * reloaded when the settings file changes, and announces silent agents and agents whose spool fails.
 */
public final class NotifierVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(NotifierVerticle.class);
    private static final Logger notifications = LoggerFactory.getLogger("io.dozor.notifications");

    private final ServerConfig.Telegram config;
    private final Pool pool;
    private final NotifyStore store;
    private final Optional<BotApi> api;
    private final Duration pollInterval;
    private final Clock clock;

    /** {@code api}: the bot's ({@link BotApi#of}), empty without a bot token. */
    public NotifierVerticle(
            ServerConfig server,
            Pool pool,
            NotifyStore store,
            Optional<BotApi> api,
            Duration pollInterval,
            Clock clock) {
        this.config = server.telegram();
        this.pool = pool;
        this.store = store;
        this.api = api;
        this.pollInterval = pollInterval;
        this.clock = clock;
    }

    /** The outbox sinks this configuration feeds; the persistence verticle queues each new event for each. */
    public static List<String> sinkNames(ServerConfig.Telegram config) {
        if (config.botToken().isEmpty()) {
            return List.of(LogSink.NAME);
        }
        return config.chatIds().stream().map(TelegramSink::sinkName).toList();
    }

    @Override
    public Future<?> start() {
        var formatter = new MessageFormatter(config.template(), config.timeZone());
        var filters = new FiltersWatcher(config.filters());
        config.filtersFile().ifPresent(file -> filters.watch(vertx, file));
        List<Sink> sinks = new ArrayList<>();
        Function<String, Future<Boolean>> broadcast;
        if (api.isEmpty()) {
            log.info("no telegram bot token: notifications go to the log");
            sinks.add(new LogSink(formatter, filters));
            broadcast = text -> {
                notifications.info(text);
                return Future.succeededFuture(true);
            };
        } else {
            for (long chat : config.chatIds()) {
                sinks.add(new TelegramSink(api.get(), store, chat, formatter, config, filters, clock));
            }
            if (sinks.isEmpty()) {
                log.warn("telegram bot token set but no chat ids: nobody will be notified");
            }
            broadcast = text -> broadcast(api.get(), text);
        }
        if (!config.silentAgentAfter().isZero()) {
            var silent = new SilentAgents(store, config.silentAgentAfter(), config.timeZone(), clock, broadcast);
            watch("silent agent", silent.checkInterval(), silent::check);
        }
        var degraded = new DegradedAgents(store, config.timeZone(), clock, broadcast);
        watch("agent spool", DegradedAgents.CHECK_INTERVAL, degraded::check);
        return Future.all(sinks.stream()
                .map(s -> new OutboxWorker(vertx, pool, s, pollInterval).start())
                .toList());
    }

    /** Runs an alert check periodically; a failure is logged once until a check succeeds. */
    private void watch(String what, Duration interval, Supplier<Future<Void>> check) {
        boolean[] failing = {false};
        vertx.setPeriodic(
                interval.toMillis(),
                id -> check.get().onComplete(ar -> {
                    if (ar.failed() && !failing[0]) {
                        log.warn(
                                "{} check failed, will retry [error={}]",
                                what,
                                ar.cause().getMessage());
                    }
                    failing[0] = ar.failed();
                }));
    }

    /** To every chat; true when none asks to be retried (a chat that refuses messages is not waited for). */
    private Future<Boolean> broadcast(BotApi api, String text) {
        Future<Boolean> all = Future.succeededFuture(true);
        for (long chat : config.chatIds()) {
            all = all.compose(
                    ok -> api.sendMessage(chat, text).map(result -> ok && result.kind() != BotApi.Result.Kind.RETRY));
        }
        return all;
    }
}
