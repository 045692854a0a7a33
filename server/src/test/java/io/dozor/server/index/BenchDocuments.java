package io.dozor.server.index;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import io.dozor.server.model.StoredEvent;
import java.util.List;

/** The live pipeline's bulk request (same documents, index and _id), for the ingest benchmark's ceiling. */
public final class BenchDocuments {
    private BenchDocuments() {}

    public static BulkRequest bulk(String prefix, List<StoredEvent> events) {
        return ElasticsearchSink.bulk(prefix, events);
    }

    /** The client as the pipeline sends its bulk requests (the same answer filter). */
    public static ElasticsearchAsyncClient asThePipeline(ElasticsearchAsyncClient client) {
        return ElasticsearchSink.filtered(client);
    }
}
