package io.dozor.server.index;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch.indices.PutIndexTemplateRequest;
import io.dozor.server.setup.IndexTemplate;
import io.vertx.core.json.JsonObject;
import java.io.StringReader;
import java.util.concurrent.CompletableFuture;

/**
 * Puts Dozor's index templates into Elasticsearch through the one client ({@link EsClient}): the server at
 * start ({@link IndexerVerticle}) and {@code setup elasticsearch} ({@code setup.ElasticsearchSetup}) both
 * install them here. An Elasticsearch without the modules of {@code match_only_text} and {@code wildcard}
 * (mapper-extras, x-pack-wildcard) gets the template with {@code text} and {@code keyword}, ECS's fallbacks.
 */
public final class TemplateInstaller {
    private TemplateInstaller() {}

    /**
     * An installed template.
     *
     * @param ecsTypes false when this Elasticsearch needed the fallback types
     */
    public record Installed(String name, String pattern, IndexTemplate template, boolean ecsTypes) {
        /** One line for the operator. */
        public String describe() {
            return "index template " + name + " installed (" + template.resource() + ")"
                    + (ecsTypes
                            ? ""
                            : " with text and keyword for match_only_text and wildcard: this Elasticsearch lacks the modules"
                                    + " mapper-extras and x-pack-wildcard");
        }
    }

    /** Installs (or replaces) {@code template} for the events index {@code prefix}. */
    public static CompletableFuture<Installed> install(
            ElasticsearchAsyncClient client, IndexTemplate template, String prefix) {
        String name = template.name(prefix);
        String json = template.json(prefix);
        String pattern = new JsonObject(json).getJsonArray("index_patterns").getString(0);
        return put(client, name, json)
                .thenApply(done -> new Installed(name, pattern, template, true))
                .exceptionallyCompose(err -> IndexTemplate.lacksEcsTypes(reasons(err))
                        ? put(client, name, IndexTemplate.withoutEcsTypes(json))
                                .thenApply(done -> new Installed(name, pattern, template, false))
                        : CompletableFuture.failedFuture(err));
    }

    private static CompletableFuture<?> put(ElasticsearchAsyncClient client, String name, String json) {
        try {
            return client.indices()
                    .putIndexTemplate(
                            PutIndexTemplateRequest.of(t -> t.name(name).withJson(new StringReader(json))));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The error's message with Elasticsearch's nested reasons ({@code caused_by}), where the mapper's own is. */
    public static String reasons(Throwable err) {
        Throwable top = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                ? err.getCause()
                : err;
        StringBuilder out = new StringBuilder(String.valueOf(top.getMessage()));
        for (Throwable t = top; t != null; t = t.getCause()) {
            if (t instanceof ElasticsearchException e && e.error() != null) {
                for (var cause = e.error().causedBy(); cause != null; cause = cause.causedBy()) {
                    out.append("; ").append(cause.type()).append(": ").append(cause.reason());
                }
            }
        }
        return out.toString();
    }
}
