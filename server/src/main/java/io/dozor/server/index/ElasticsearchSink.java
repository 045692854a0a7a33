package io.dozor.server.index;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import co.elastic.clients.transport.TransportException;
import co.elastic.clients.util.BinaryData;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.model.StoredEvent;
import io.dozor.server.ops.Meters;
import io.dozor.server.outbox.Backoff;
import io.dozor.server.outbox.Delivery;
import io.dozor.server.outbox.Failures;
import io.dozor.server.outbox.OutboxItem;
import io.dozor.server.outbox.Sink;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import org.apache.hc.core5.reactor.IOReactorShutdownException;

/**
 * Bulk-indexes launches. A 200 bulk answer can still hold failed items, so every item is checked:
 * 429 and 5xx items are retried with backoff, other errors (a mapping conflict) are parked with
 * ES's reason, and the rest of the batch goes through.
 */
final class ElasticsearchSink implements Sink {
    static final String NAME = "elasticsearch";

    private final ElasticsearchAsyncClient client;
    private final Context context;
    private final String prefix;
    private final int batchSize;
    private final int concurrency;

    /**
     * What the sink reads of a bulk answer: per item its status and error (and {@code _index}, which the client
     * requires), in request order. Without it Elasticsearch writes, and the client parses, about 200 bytes per
     * document ({@code _id}, {@code _version}, {@code _shards}, {@code _seq_no}…); on the ingest benchmark the
     * client's I/O thread, where the answers are parsed, went from 21 % to 9 % of the server JVM's CPU with it
     * (BENCHMARKS.md, "Ingest").
     */
    static final String BULK_FILTER = "took,errors,items.*._index,items.*.status,items.*.error";

    /** {@code client} answering bulk requests through {@link #BULK_FILTER}. */
    static ElasticsearchAsyncClient filtered(ElasticsearchAsyncClient client) {
        return client.withTransportOptions(options -> options.setParameter("filter_path", BULK_FILTER));
    }

    ElasticsearchSink(ElasticsearchAsyncClient client, Context context, ServerConfig.Elasticsearch config) {
        this.client = filtered(client);
        this.context = context;
        this.prefix = config.indexPrefix();
        this.batchSize = config.bulkSize();
        this.concurrency = config.bulkConcurrency();
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * By default 1000 documents per bulk request (about 0.4 MB), two requests in flight: on the ingest
     * benchmark (BENCHMARKS.md, "Ingest") one serial loop of 500 left Elasticsearch idle during each claim
     * and delete. {@code elasticsearch.bulk_size} and {@code bulk_concurrency} tune it.
     */
    @Override
    public int batchSize() {
        return batchSize;
    }

    @Override
    public int concurrency() {
        return concurrency;
    }

    @Override
    public boolean retryEarlyOnRecovery() {
        return true;
    }

    /** Elasticsearch is written over HTTP only: its attempts need no savepoint. */
    @Override
    public boolean writesToTransaction() {
        return false;
    }

    /**
     * An event that cannot become a document (a launch time outside the years 0000–9999, or anything
     * that throws while building it) is parked here with the reason, so the bulk request carries only the
     * others; what fails later, in Elasticsearch, is answered item by item.
     */
    @Override
    public Future<List<Delivery>> deliver(List<OutboxItem> items) {
        List<Delivery> refused = new ArrayList<>();
        List<OutboxItem> sendable = new ArrayList<>(items.size());
        List<BulkOperation> operations = new ArrayList<>(items.size());
        for (OutboxItem item : items) {
            String reason;
            try {
                reason = EcsDocument.unindexable(item.event()).orElse(null);
                if (reason == null) {
                    operations.add(operation(prefix, item.event()));
                    sendable.add(item);
                }
            } catch (RuntimeException e) {
                reason = "cannot build the document: " + Failures.describe(e);
            }
            if (reason != null) {
                refused.add(Delivery.park(item.event().id(), Delivery.Reason.UNINDEXABLE, reason));
            }
        }
        if (sendable.isEmpty()) {
            return Future.succeededFuture(refused);
        }
        return Future.fromCompletionStage(
                        client.bulk(
                                new BulkRequest.Builder().operations(operations).build()),
                        context)
                .map(response -> {
                    List<Delivery> result = outcomes(sendable, response);
                    result.addAll(refused);
                    return result;
                });
    }

    /**
     * A failed bulk request is an outage (network, timeouts, 401/403, 429, 5xx: retried whole) unless
     * Elasticsearch refused the request itself as bad (400, 413): then something in it is at fault, and
     * the outbox delivers it in halves to find it.
     */
    @Override
    public boolean isTransient(Throwable error) {
        return outage(error);
    }

    static boolean outage(Throwable error) {
        int depth = 0;
        for (Throwable t = error; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof ElasticsearchException e) {
                return !refusedAsBad(e.status());
            }
            if (t instanceof TransportException e) {
                return !refusedAsBad(e.statusCode());
            }
            if (clientClosing(t)) {
                return true;
            }
        }
        return Failures.isTransient(error);
    }

    /**
     * The ES client closed under a drain (the server is stopping): its I/O reactor or its connection pool is shut
     * down. Not the batch's fault, so the batch must not be split and its items never dead-lettered for it.
     */
    private static boolean clientClosing(Throwable t) {
        return t instanceof IOReactorShutdownException
                || (t instanceof IllegalStateException && "Connection pool shut down".equals(t.getMessage()));
    }

    private static boolean refusedAsBad(int status) {
        return status == 400 || status == 413;
    }

    /** One index operation per event, in order; {@code _id} = event id, so repeating it never doubles. */
    static BulkRequest bulk(String prefix, List<StoredEvent> events) {
        BulkRequest.Builder bulk = new BulkRequest.Builder();
        for (StoredEvent event : events) {
            bulk.operations(operation(prefix, event));
        }
        return bulk.build();
    }

    static BulkOperation operation(String prefix, StoredEvent event) {
        // the document's bytes go into the request as they are (BinaryData is not serialised again)
        BinaryData document = BinaryData.of(EcsDocument.json(event), "application/json");
        return BulkOperation.of(op -> op.index(ix -> ix.index(EcsDocument.index(prefix, event))
                .id(event.launch().eventId().toString())
                .document(document)));
    }

    private static List<Delivery> outcomes(List<OutboxItem> items, BulkResponse response) {
        List<Delivery> result = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            OutboxItem item = items.get(i);
            long pk = item.event().id();
            BulkResponseItem answer =
                    i < response.items().size() ? response.items().get(i) : null;
            if (answer == null) {
                result.add(Delivery.retry(pk, Backoff.after(item.attempts()), "no item in bulk response"));
            } else if (answer.error() == null) {
                result.add(Delivery.done(pk));
            } else {
                String reason = answer.status() + " " + answer.error().type() + ": "
                        + answer.error().reason();
                boolean transientError = answer.status() == 429 || answer.status() >= 500;
                Meters.bulkItemFailed(answer.status());
                result.add(
                        transientError
                                ? Delivery.retry(pk, Backoff.after(item.attempts()), reason)
                                : Delivery.park(pk, Delivery.Reason.REJECTED, reason));
            }
        }
        return result;
    }
}
