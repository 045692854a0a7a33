package io.dozor.server.index;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest5_client.Rest5ClientTransport;
import co.elastic.clients.transport.rest5_client.low_level.Rest5Client;
import java.io.IOException;
import java.net.URI;
import java.util.List;

/**
 * The one way the server reaches Elasticsearch: the REST client for its URLs and the typed async client over
 * it. Building one loads thousands of classes: do it on a worker thread, not on an event loop.
 */
public record EsClient(Rest5Client rest, ElasticsearchAsyncClient async) implements AutoCloseable {
    public static EsClient connect(List<URI> urls) {
        Rest5Client rest = Rest5Client.builder(urls).build();
        return new EsClient(
                rest, new ElasticsearchAsyncClient(new Rest5ClientTransport(rest, new JacksonJsonpMapper())));
    }

    @Override
    public void close() {
        try {
            rest.close();
        } catch (IOException ignored) {
            // closing anyway: nothing more to do with it
        }
    }
}
