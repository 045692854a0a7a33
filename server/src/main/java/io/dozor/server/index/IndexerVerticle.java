package io.dozor.server.index;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch._types.HealthStatus;
import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages.Health;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.outbox.OutboxWorker;
import io.dozor.server.setup.IndexTemplate;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Feeds Elasticsearch from the outbox; installs the events index template first. */
public final class IndexerVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(IndexerVerticle.class);
    static final Duration RETRY_TEMPLATE = Duration.ofSeconds(5);

    private final ServerConfig.Elasticsearch config;
    private final Pool pool;
    private final Duration pollInterval;
    private EsClient es;
    private HeartbeatIndexer heartbeats;

    private final int retentionDays;

    /** {@code retentionDays}: heartbeats older than this are not kept for indexing (0 keeps them all). */
    public IndexerVerticle(ServerConfig.Elasticsearch config, Pool pool, Duration pollInterval, int retentionDays) {
        this.config = config;
        this.pool = pool;
        this.pollInterval = pollInterval;
        this.retentionDays = retentionDays;
    }

    public static String sinkName() {
        return ElasticsearchSink.NAME;
    }

    /** The client is built on a worker thread: its first use loads thousands of classes (seconds on a busy machine). */
    @Override
    public Future<?> start() {
        return vertx.executeBlocking(() -> es = EsClient.connect(config.urls()))
                .map(EsClient::async)
                .compose(client -> {
                    var sink = new ElasticsearchSink(client, context, config);
                    heartbeats = new HeartbeatIndexer(vertx, context, pool, client, pollInterval, retentionDays);
                    prepare(client, new OutboxWorker(vertx, pool, sink, pollInterval), heartbeats);
                    return vertx.eventBus()
                            .consumer(
                                    Addresses.HEALTH_ELASTICSEARCH,
                                    message -> health(client).onSuccess(message::reply))
                            .completion();
                });
    }

    /**
     * Indexing starts once the template is in place. Elasticsearch being down at start does not stop
     * the server: events keep being committed and wait in the outbox until it comes back.
     */
    private void prepare(ElasticsearchAsyncClient client, OutboxWorker worker, HeartbeatIndexer heartbeats) {
        installTemplate(client, IndexTemplate.EVENTS)
                .compose(ignored -> installTemplate(client, IndexTemplate.HEARTBEATS))
                .compose(ignored -> worker.start())
                .onSuccess(ignored -> heartbeats.start())
                .onFailure(err -> {
                    log.warn(
                            "elasticsearch not ready, indexing waits [retry_in={}s, error={}]",
                            RETRY_TEMPLATE.toSeconds(),
                            err.getMessage());
                    vertx.setTimer(RETRY_TEMPLATE.toMillis(), id -> prepare(client, worker, heartbeats));
                });
    }

    @Override
    public Future<?> stop() {
        Future<Void> drained = heartbeats == null ? Future.succeededFuture() : heartbeats.stop();
        return drained.compose(v -> vertx.executeBlocking(() -> {
            if (es != null) {
                es.close();
            }
            return null;
        }));
    }

    private Future<Health> health(ElasticsearchAsyncClient client) {
        return Future.fromCompletionStage(client.cluster().health(), context)
                .map(h -> h.status() == HealthStatus.Red
                        ? new Health(false, "cluster status red")
                        : new Health(true, h.status().jsonValue()))
                .otherwise(err -> new Health(false, String.valueOf(err.getMessage())));
    }

    private Future<Void> installTemplate(ElasticsearchAsyncClient client, IndexTemplate template) {
        // building the request parses the template: a worker thread, not the event loop
        return vertx.executeBlocking(() -> TemplateInstaller.install(client, template, config.indexPrefix()))
                .compose(installing -> Future.fromCompletionStage(installing, context))
                .onSuccess(installed -> {
                    if (!installed.ecsTypes()) {
                        // not a warning: the template works, only those two types' savings are missing (a minimal
                        // Elasticsearch, such as the dev stack's)
                        log.info(
                                "elasticsearch lacks the modules mapper-extras and x-pack-wildcard: the index template maps "
                                        + "match_only_text as text and wildcard as keyword [name={}]",
                                installed.name());
                    }
                    log.info("index template installed [name={}, pattern={}]", installed.name(), installed.pattern());
                })
                .recover(err -> Future.failedFuture(new IllegalStateException(
                        "cannot install the index template in Elasticsearch " + config.urls() + ": "
                                + TemplateInstaller.reasons(err),
                        err)))
                .mapEmpty();
    }
}
