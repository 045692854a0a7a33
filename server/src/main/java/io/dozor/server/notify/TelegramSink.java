package io.dozor.server.notify;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.outbox.Backoff;
import io.dozor.server.outbox.Delivery;
import io.dozor.server.outbox.OutboxItem;
import io.dozor.server.outbox.Sink;
import io.dozor.server.rules.Filters;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds one chat from its outbox rows, deciding at delivery time and inside the claiming transaction (so a
 * restart decides the same): loads the chat's state ({@link NotifyStore}), lets {@link NotifyCore} decide,
 * sends the messages in order through {@link BotApi}, and records the state that changed. A 429 defers by its
 * {@code retry_after}; 5xx and network errors back off; 403 and 400s about the chat (not found, bot blocked)
 * park; another 400 parks only the message refused, as does a launch whose text cannot be made.
 */
final class TelegramSink implements Sink {
    private static final Logger log = LoggerFactory.getLogger(TelegramSink.class);
    static final String PREFIX = "telegram:";
    static final int BATCH = 1000;

    private final BotApi api;
    private final NotifyStore store;
    private final long chatId;
    private final MessageFormatter formatter;
    private final ServerConfig.Telegram config;
    private final Supplier<Filters> filters;
    private final Clock clock;
    private boolean gone;

    TelegramSink(
            BotApi api,
            NotifyStore store,
            long chatId,
            MessageFormatter formatter,
            ServerConfig.Telegram config,
            Supplier<Filters> filters,
            Clock clock) {
        this.api = api;
        this.store = store;
        this.chatId = chatId;
        this.formatter = formatter;
        this.config = config;
        this.filters = filters;
        this.clock = clock;
    }

    static String sinkName(long chatId) {
        return PREFIX + chatId;
    }

    @Override
    public String name() {
        return sinkName(chatId);
    }

    /** Large: a backlog is claimed whole, so it can become one digest rather than fall behind. */
    @Override
    public int batchSize() {
        return BATCH;
    }

    @Override
    public Future<List<Delivery>> deliver(List<OutboxItem> items) {
        return Future.failedFuture(
                new IllegalStateException("the telegram sink records its state in the claiming transaction"));
    }

    @Override
    public Future<List<Delivery>> deliver(SqlConnection tx, List<OutboxItem> items) {
        var now = clock.instant();
        var rules = NotifyCore.Rules.of(chatId, config, filters.get());
        return store.chatState(tx, name(), chatId, items)
                .compose(chat -> {
                    var screened = NotifyCore.screen(rules, items, chat.mutes(), now);
                    return store.pairState(tx, rules, screened.pending())
                            .map(pairs -> NotifyCore.plan(rules, screened, chat.held(), pairs, formatter));
                })
                .compose(plan -> {
                    plan.unrendered()
                            .forEach(u -> log.error(
                                    "cannot render a notification, parking it [chat_id={}, event_pk={}, error={}]",
                                    chatId,
                                    u.eventPk(),
                                    u.error()));
                    return send(plan.messages(), 0)
                            .map(results -> NotifyCore.settle(rules, plan, results, Backoff::after));
                })
                .compose(outcome -> store.record(tx, name(), chatId, outcome).map(v -> logged(outcome.deliveries())));
    }

    /** Sends the messages in order, the next only while {@link NotifyCore#goesOn}; the answers, in order. */
    private Future<List<BotApi.Result>> send(List<NotifyCore.Message> messages, int index) {
        if (index == messages.size()) {
            return Future.succeededFuture(List.of());
        }
        return api.sendMessage(chatId, messages.get(index).text()).compose(result -> {
            noteChat(result);
            return NotifyCore.goesOn(result)
                    ? send(messages, index + 1)
                            .map(rest -> Stream.concat(Stream.of(result), rest.stream())
                                    .toList())
                    : Future.succeededFuture(List.of(result));
        });
    }

    /** Logs once when the chat stops taking messages and once when it takes them again. */
    private void noteChat(BotApi.Result result) {
        if (result.sent() && gone) {
            log.info("telegram chat reachable again [chat_id={}]", chatId);
            gone = false;
        } else if (result.kind() == BotApi.Result.Kind.GONE && !gone) {
            log.error(
                    "telegram refuses messages to this chat: parking them [chat_id={}, reason={}]",
                    chatId,
                    result.error());
            gone = true;
        }
    }

    private List<Delivery> logged(List<Delivery> deliveries) {
        deliveries.stream()
                .filter(d -> d.reason() == Delivery.Reason.REFUSED)
                .forEach(d -> log.warn(
                        "telegram refused a message, parking it [chat_id={}, event_pk={}, reason={}]",
                        chatId,
                        d.eventPk(),
                        d.error()));
        return deliveries;
    }
}
