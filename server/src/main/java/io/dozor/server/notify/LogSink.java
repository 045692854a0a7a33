package io.dozor.server.notify;

import io.dozor.server.outbox.Delivery;
import io.dozor.server.outbox.Failures;
import io.dozor.server.outbox.OutboxItem;
import io.dozor.server.outbox.Sink;
import io.dozor.server.rules.Filters;
import io.vertx.core.Future;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** With no bot token configured, each launch that passes the filters is written to the log in its exact text. */
final class LogSink implements Sink {
    static final String NAME = "log";
    private static final Logger notifications = LoggerFactory.getLogger("io.dozor.notifications");

    private final MessageFormatter formatter;
    private final Supplier<Filters> filters;

    LogSink(MessageFormatter formatter, Supplier<Filters> filters) {
        this.formatter = formatter;
        this.filters = filters;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int batchSize() {
        return 100;
    }

    /** Item by item: a launch whose text cannot be made is parked alone with the reason. */
    @Override
    public Future<List<Delivery>> deliver(List<OutboxItem> items) {
        Filters current = filters.get();
        return Future.succeededFuture(items.stream()
                .map(item -> {
                    try {
                        if (current.passes(item.event())) {
                            notifications.info(formatter.format(item.event()));
                        }
                        return Delivery.done(item.event().id());
                    } catch (RuntimeException e) {
                        return Delivery.park(
                                item.event().id(),
                                Delivery.Reason.RENDER,
                                "cannot render the message: " + Failures.describe(e));
                    }
                })
                .toList());
    }
}
