package io.dozor.server;

import io.dozor.server.auth.CredentialsVerticle;
import io.dozor.server.auth.RevocationListener;
import io.dozor.server.auth.TokenCache;
import io.dozor.server.bus.Messages;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.http.HandshakePool;
import io.dozor.server.http.IngestVerticle;
import io.dozor.server.index.IndexerVerticle;
import io.dozor.server.notify.BotApi;
import io.dozor.server.notify.NotifierVerticle;
import io.dozor.server.notify.NotifyStore;
import io.dozor.server.notify.bot.BotVerticle;
import io.dozor.server.ops.Meters;
import io.dozor.server.ops.OpsVerticle;
import io.dozor.server.retention.RetentionVerticle;
import io.dozor.server.store.Migrations;
import io.dozor.server.store.PersistenceVerticle;
import io.dozor.server.store.Postgres;
import io.dozor.server.store.QueryVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires one server process: the shared pool, the schema, then one verticle per responsibility,
 * deployed in sequence. Any failed step fails the start.
 */
public final class DozorServer {
    private static final Logger log = LoggerFactory.getLogger(DozorServer.class);
    static final Duration OUTBOX_POLL = Duration.ofSeconds(2);
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final Vertx vertx;
    private final Pool pool;
    private final List<String> deployments = new ArrayList<>();
    private int port;
    private int opsPort;

    private DozorServer(Vertx vertx, Pool pool) {
        this.vertx = vertx;
        this.pool = pool;
    }

    /**
     * The Vert.x instance the server runs on: {@code options} (metrics: {@link Meters#vertxOptions()}) and, as its
     * internal blocking pool, where the ingest listener's TLS handshakes run: {@code http.tls_handshake_threads}
     * threads, at most {@code http.tls_handshake_queue} handshake steps waiting ({@link HandshakePool}).
     */
    public static Vertx vertx(VertxOptions options, ServerConfig config) {
        return VertxBootstrap.create()
                .options(new VertxOptions(options)
                        .setInternalBlockingPoolSize(config.http().handshakeThreads()))
                .executorServiceFactory(new HandshakePool(config.http().tlsHandshakeQueue()))
                .init()
                .vertx();
    }

    public static Future<DozorServer> start(Vertx vertx, ServerConfig config) {
        Messages.registerCodecs(vertx.eventBus());
        Pool pool = Postgres.pool(vertx, config.postgres());
        DozorServer server = new DozorServer(vertx, pool);
        List<String> sinks = new ArrayList<>();
        sinks.add(IndexerVerticle.sinkName());
        sinks.addAll(NotifierVerticle.sinkNames(config.telegram()));
        int httpInstances = config.http().instances() > 0
                ? config.http().instances()
                : Math.max(1, Runtime.getRuntime().availableProcessors());
        List<IngestVerticle> ingest = new ArrayList<>();
        TokenCache tokens = TokenCache.of(config.auth().tokenCacheTtl());
        IngestVerticle.Shared shared = IngestVerticle.Shared.of(config, tokens);
        OpsVerticle ops = new OpsVerticle(config.ops());
        Clock clock = Clock.systemUTC();
        NotifyStore notifyStore = new NotifyStore(pool);
        Optional<BotApi> botApi = BotApi.of(vertx, config.telegram(), clock);
        Meters.declare(sinks);
        return Migrations.migrate(vertx, pool)
                .recover(err -> Future.failedFuture(new IllegalStateException(
                        "PostgreSQL "
                                + ServerConfig.Postgres.redact(config.postgres().url()) + ": " + err.getMessage(),
                        err)))
                .compose(v -> server.deploy(vertx.deployVerticle(new PersistenceVerticle(pool, sinks))))
                .compose(v -> server.deploy(vertx.deployVerticle(
                        new QueryVerticle(pool, sinks, config.telegram().activeWithin()))))
                .compose(v -> server.deploy(vertx.deployVerticle(new CredentialsVerticle(pool, config.auth()))))
                .compose(v -> !tokens.enabled()
                        ? Future.<Void>succeededFuture()
                        : server.deploy(vertx.deployVerticle(new RevocationListener(config.postgres(), tokens))))
                .compose(v -> server.deploy(vertx.deployVerticle(new IndexerVerticle(
                        config.elasticsearch(),
                        pool,
                        OUTBOX_POLL,
                        config.retention().days()))))
                .compose(v -> server.deploy(vertx.deployVerticle(
                        new NotifierVerticle(config, pool, notifyStore, botApi, OUTBOX_POLL, clock))))
                .compose(v -> botApi.isEmpty() || !config.telegram().botPolling()
                        ? Future.<Void>succeededFuture()
                        : server.deploy(vertx.deployVerticle(
                                new BotVerticle(config.telegram(), notifyStore, botApi.get(), clock))))
                .compose(v -> server.deploy(vertx.deployVerticle(new RetentionVerticle(config, pool, clock))))
                .compose(v -> server.deploy(vertx.deployVerticle(ops)))
                .compose(v -> server.deploy(vertx.deployVerticle(
                        () -> {
                            var verticle = new IngestVerticle(config.http(), config.auth(), shared);
                            ingest.add(verticle);
                            return verticle;
                        },
                        new DeploymentOptions().setInstances(httpInstances))))
                .map(v -> {
                    server.port = ingest.get(0).actualPort();
                    server.opsPort = ops.actualPort();
                    log.info(
                            "dozor server started [port={}, tls={}, http_instances={}, ops={}:{}, sinks={}]",
                            server.port,
                            !config.http().plain(),
                            httpInstances,
                            config.ops().host(),
                            server.opsPort,
                            sinks);
                    return server;
                })
                .recover(err -> server.close().transform(ignored -> Future.failedFuture(err)));
    }

    private Future<Void> deploy(Future<String> deployment) {
        return deployment.onSuccess(deployments::add).mapEmpty();
    }

    public int port() {
        return port;
    }

    /** The ops listener's port ({@code /metrics}, {@code /readyz}). */
    public int opsPort() {
        return opsPort;
    }

    /**
     * Undeploys one verticle after another in the reverse order of their start: the agents' listener first and
     * the verticles its requests ask last, so no request in flight finds its consumer gone.
     */
    public Future<Void> close() {
        Future<Void> undeployed = Future.succeededFuture();
        for (String id : deployments.reversed()) {
            undeployed = undeployed.transform(ignored -> vertx.undeploy(id));
        }
        return undeployed
                .transform(ignored -> pool.close())
                .timeout(CLOSE_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .otherwiseEmpty();
    }
}
