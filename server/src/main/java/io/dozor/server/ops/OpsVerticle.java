package io.dozor.server.ops;

import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages;
import io.dozor.server.bus.Messages.Health;
import io.dozor.server.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;

/**
 * The operations listener, apart from the agents' port: {@code /metrics} (Prometheus text), {@code /readyz}
 * (PostgreSQL and Elasticsearch answer) and {@code /healthz}, plain HTTP without a token on {@code ops.host}
 * (loopback by default) and {@code ops.port}. It also checks both dependencies every
 * {@link #DEPENDENCY_CHECK_PERIOD_MS} for {@code dozor_dependency_up}, so an alert needs no probe of its own.
 */
public final class OpsVerticle extends VerticleBase {
    static final long CHECK_TIMEOUT_MS = 2_000;
    static final long DEPENDENCY_CHECK_PERIOD_MS = 10_000;
    static final String POSTGRES = "postgres";
    static final String ELASTICSEARCH = "elasticsearch";

    private final ServerConfig.Ops config;
    private HttpServer server;

    public OpsVerticle(ServerConfig.Ops config) {
        this.config = config;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.get("/healthz").handler(OpsVerticle::healthy);
        router.get("/readyz").handler(this::ready);
        router.get("/metrics").handler(PrometheusScrapingHandler.create());
        router.errorHandler(
                404,
                ctx -> ctx.response()
                        .setStatusCode(404)
                        .putHeader("Content-Type", "application/json")
                        .end(new JsonObject()
                                .put(
                                        "error",
                                        "no such route: " + ctx.request().method() + " " + ctx.normalizedPath()
                                                + " (the ops listener serves GET /metrics, /readyz, /healthz)")
                                .encode()));
        Meters.dependencyUp(POSTGRES, false);
        Meters.dependencyUp(ELASTICSEARCH, false);
        checkDependencies();
        vertx.setPeriodic(DEPENDENCY_CHECK_PERIOD_MS, id -> checkDependencies());
        // HTTP/1.1 only, as Prometheus scrapes: no h2c upgrade dance with clients that offer one
        return vertx.createHttpServer(new HttpServerOptions()
                        .setHost(config.host())
                        .setPort(config.port())
                        .setHttp2ClearTextEnabled(false))
                .requestHandler(router)
                .listen()
                .recover(err -> Future.failedFuture(new IllegalStateException(
                        "ops listener (ops.host, ops.port) " + config.host() + ":" + config.port() + ": "
                                + err.getMessage(),
                        err)))
                .onSuccess(s -> server = s);
    }

    /** The port actually bound (useful when configured as 0). */
    public int actualPort() {
        return server.actualPort();
    }

    /** Liveness, also on the agents' port: the process answers. */
    public static void healthy(RoutingContext ctx) {
        ctx.json(new JsonObject().put("status", "ok"));
    }

    private void checkDependencies() {
        check(Addresses.HEALTH_POSTGRES).onSuccess(h -> Meters.dependencyUp(POSTGRES, h.up()));
        check(Addresses.HEALTH_ELASTICSEARCH).onSuccess(h -> Meters.dependencyUp(ELASTICSEARCH, h.up()));
    }

    /** 200 when PostgreSQL and Elasticsearch both answer, else 503 naming what is down. */
    private void ready(RoutingContext ctx) {
        Future<Health> pg = check(Addresses.HEALTH_POSTGRES);
        Future<Health> es = check(Addresses.HEALTH_ELASTICSEARCH);
        Future.join(pg, es).onComplete(done -> {
            Health p = pg.result();
            Health e = es.result();
            Meters.dependencyUp(POSTGRES, p.up());
            Meters.dependencyUp(ELASTICSEARCH, e.up());
            JsonObject body = new JsonObject().put(POSTGRES, describe(p)).put(ELASTICSEARCH, describe(e));
            ctx.response()
                    .setStatusCode(p.up() && e.up() ? 200 : 503)
                    .putHeader("Content-Type", "application/json")
                    .end(body.encode());
        });
    }

    private Future<Health> check(String address) {
        return Messages.health(vertx.eventBus(), address, java.time.Duration.ofMillis(CHECK_TIMEOUT_MS));
    }

    private static JsonObject describe(Health h) {
        return new JsonObject().put("up", h.up()).put("detail", h.detail());
    }
}
