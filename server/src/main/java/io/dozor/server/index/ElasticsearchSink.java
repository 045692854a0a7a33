package io.dozor.server.index;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.model.StoredEvent;
import io.dozor.server.outbox.Backoff;
import io.dozor.server.outbox.Delivery;
import io.dozor.server.outbox.OutboxItem;
import io.dozor.server.outbox.Sink;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

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

  ElasticsearchSink(ElasticsearchAsyncClient client, Context context, ServerConfig.Elasticsearch config) {
    this.client = client;
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
   * benchmark (BENCHMARKS.md, issue #4) one serial loop of 500 left Elasticsearch idle during each claim
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

  @Override
  public Future<List<Delivery>> deliver(List<OutboxItem> items) {
    return Future.fromCompletionStage(client.bulk(bulk(prefix, items.stream().map(OutboxItem::event).toList())),
            context)
        .map(response -> outcomes(items, response));
  }

  /** One index operation per event, in order; {@code _id} = event id, so repeating it never doubles. */
  static BulkRequest bulk(String prefix, List<StoredEvent> events) {
    BulkRequest.Builder bulk = new BulkRequest.Builder();
    for (StoredEvent event : events) {
      bulk.operations(op -> op.index(ix -> ix
          .index(EcsDocument.index(prefix, event))
          .id(event.launch().eventId().toString())
          .document(EcsDocument.of(event))));
    }
    return bulk.build();
  }

  private static List<Delivery> outcomes(List<OutboxItem> items, BulkResponse response) {
    List<Delivery> result = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      OutboxItem item = items.get(i);
      long pk = item.event().id();
      BulkResponseItem answer = i < response.items().size() ? response.items().get(i) : null;
      if (answer == null) {
        result.add(Delivery.retry(pk, Backoff.after(item.attempts()), "no item in bulk response"));
      } else if (answer.error() == null) {
        result.add(Delivery.done(pk));
      } else {
        String reason = answer.status() + " " + answer.error().type() + ": " + answer.error().reason();
        boolean transientError = answer.status() == 429 || answer.status() >= 500;
        result.add(transientError
            ? Delivery.retry(pk, Backoff.after(item.attempts()), reason)
            : Delivery.park(pk, reason));
      }
    }
    return result;
  }

}
