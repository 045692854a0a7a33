package io.dozor.server.index;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.model.StoredEvent;
import io.dozor.server.store.CliDatabase;
import io.dozor.server.store.EventRows;
import io.dozor.server.store.Sql;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.Console;
import java.io.PrintStream;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * {@code dozor-server reindex [--since TIME]}: rebuilds Elasticsearch from PostgreSQL, for when ES was
 * lost or the template changed. Pages through events in id order and bulk-indexes them with the same
 * documents and ids as the live pipeline, so running it twice, or beside a running server, doubles
 * nothing. Runs on the caller's thread (a CLI command), waiting on each page.
 */
public final class Reindexer {
    static final int PAGE = 1_000;

    /** {@code failed} items were refused by ES (their reasons are printed). */
    public record Result(long indexed, long failed) {}

    private Reindexer() {}

    /** A bar redrawn in place on a terminal; elsewhere (a log, a pipe) a plain line now and then. */
    private static ProgressBarConsumer progressConsumer(PrintStream out) {
        return interactive() ? new ConsoleProgressBarConsumer(out) : new DelegatingProgressBarConsumer(out::println);
    }

    /** Whether a person watches: a console whose input and output are a terminal (JDK 22+ can tell). */
    static boolean interactive() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true; // JDK 21: a console exists only for a terminal
        }
    }

    public static Result run(ServerConfig config, Optional<OffsetDateTime> since, PrintStream out) {
        OffsetDateTime from = since.orElse(null);
        try (CliDatabase db = CliDatabase.open(config);
                EsClient es = EsClient.connect(config.elasticsearch().urls())) {
            Pool pool = db.pool();
            ElasticsearchAsyncClient client = es.async();
            long total = pool.preparedQuery(Sql.REINDEX_COUNT)
                    .execute(Tuple.of(from))
                    .await()
                    .iterator()
                    .next()
                    .getLong("n");
            try (ProgressBar bar = new ProgressBarBuilder()
                    .setTaskName("reindex")
                    .setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(progressConsumer(out))
                    .setUpdateIntervalMillis(interactive() ? 1_000 : 10_000)
                    .setUnit(" events", 1)
                    .showSpeed()
                    .build()) {
                long indexed = 0;
                long failed = 0;
                long cursor = 0;
                while (true) {
                    List<StoredEvent> page = new ArrayList<>(PAGE);
                    for (Row row : pool.preparedQuery(Sql.REINDEX_PAGE)
                            .execute(Tuple.of(cursor, from, PAGE))
                            .await()) {
                        page.add(EventRows.stored(row, "id"));
                    }
                    if (page.isEmpty()) {
                        return new Result(indexed, failed);
                    }
                    List<StoredEvent> indexable = new ArrayList<>(page.size());
                    for (StoredEvent event : page) {
                        var why = EcsDocument.unindexable(event);
                        if (why.isPresent()) {
                            failed++;
                            out.println("\nrefused [id=" + event.launch().eventId() + "]: " + why.get());
                        } else {
                            indexable.add(event);
                        }
                    }
                    List<BulkResponseItem> answers = indexable.isEmpty()
                            ? List.of()
                            : Future.fromCompletionStage(client.bulk(ElasticsearchSink.bulk(
                                            config.elasticsearch().indexPrefix(), indexable)))
                                    .await()
                                    .items();
                    for (var item : answers) {
                        if (item.error() == null) {
                            indexed++;
                        } else {
                            failed++;
                            out.println("\nrefused [id=" + item.id() + "]: " + item.status() + " "
                                    + item.error().type() + ": " + item.error().reason());
                        }
                    }
                    cursor = page.get(page.size() - 1).id();
                    bar.stepBy(page.size());
                }
            }
        }
    }
}
