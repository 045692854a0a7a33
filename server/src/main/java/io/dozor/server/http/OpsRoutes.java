package io.dozor.server.http;

import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages;
import io.dozor.server.bus.Messages.Health;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;

/** Unauthenticated operations endpoints: liveness, readiness, Prometheus metrics. */
final class OpsRoutes {
  static final long CHECK_TIMEOUT_MS = 2_000;

  private final Vertx vertx;

  private OpsRoutes(Vertx vertx) {
    this.vertx = vertx;
  }

  static void mount(Router router, Vertx vertx) {
    OpsRoutes ops = new OpsRoutes(vertx);
    router.get("/healthz").handler(ctx -> ctx.json(new JsonObject().put("status", "ok")));
    router.get("/readyz").handler(ops::ready);
    router.get("/metrics").handler(PrometheusScrapingHandler.create());
  }

  /** 200 when PostgreSQL and Elasticsearch both answer, else 503 naming what is down. */
  private void ready(RoutingContext ctx) {
    Future<Health> pg = check(Addresses.HEALTH_POSTGRES);
    Future<Health> es = check(Addresses.HEALTH_ELASTICSEARCH);
    Future.join(pg, es).onComplete(done -> {
      Health p = pg.result();
      Health e = es.result();
      JsonObject body = new JsonObject()
          .put("postgres", describe(p))
          .put("elasticsearch", describe(e));
      ctx.response().setStatusCode(p.up() && e.up() ? 200 : 503)
          .putHeader("Content-Type", "application/json").end(body.encode());
    });
  }

  private Future<Health> check(String address) {
    DeliveryOptions options = Messages.request().setSendTimeout(CHECK_TIMEOUT_MS);
    return vertx.eventBus().<Health>request(address, null, options)
        .map(reply -> reply.body())
        .otherwise(err -> new Health(false, "no answer: " + err.getMessage()));
  }

  private static JsonObject describe(Health h) {
    return new JsonObject().put("up", h.up()).put("detail", h.detail());
  }
}
