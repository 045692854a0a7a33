package io.dozor.server.http;

import static net.logstash.logback.argument.StructuredArguments.kv;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages;
import io.dozor.server.bus.Messages.Heartbeat;
import io.dozor.server.bus.Messages.StoreEvents;
import io.dozor.server.bus.Messages.StoreResult;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS API: the agents' routes (events, heartbeat) here, admin and operations routes mounted from
 * {@link AdminRoutes} and {@link OpsRoutes}. A batch is answered only once the persistence verticle has
 * committed it. Holds no state; several instances share the port.
 */
public final class IngestVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(IngestVerticle.class);
  static final String RETRY_AFTER_SECONDS = "5";
  static final long HEARTBEAT_BODY_LIMIT = 4_096;
  /** Names each request in the logs (JSON field request_id) and in the answer's X-Request-Id header. */
  static final String REQUEST_ID = "request_id";

  private final ServerConfig.Http config;
  private final String tokenSecret;
  private HttpServer server;

  public IngestVerticle(ServerConfig.Http config, String tokenSecret) {
    this.config = config;
    this.tokenSecret = tokenSecret;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.route().handler(IngestVerticle::requestId);
    OpsRoutes.mount(router, vertx);
    List<Handler<RoutingContext>> agents = new TokenGuard(vertx, tokenSecret, AgentTokens.Kind.AGENT).handlers();
    protect(router.post("/api/v1/events").handler(BodyHandler.create(false).setBodyLimit(config.maxBodyBytes())),
        agents).handler(this::ingest);
    protect(router.post("/api/v1/heartbeat").handler(BodyHandler.create(false).setBodyLimit(HEARTBEAT_BODY_LIMIT)),
        agents).handler(this::heartbeat);
    AdminRoutes.mount(router, vertx, new TokenGuard(vertx, tokenSecret, AgentTokens.Kind.ADMIN).handlers());
    router.route().failureHandler(this::failure);
    // no route for the path, or not for this method: JSON like every other answer (Vert.x would send HTML)
    router.errorHandler(404, ctx -> noRoute(ctx, 404, "no such route: " + ctx.request().method() + " "
        + ctx.normalizedPath()));
    router.errorHandler(405, ctx -> noRoute(ctx, 405, "method " + ctx.request().method() + " not allowed on "
        + ctx.normalizedPath()));

    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.host())
        .setPort(config.port())
        .setCompressionSupported(true)
        .setDecompressionSupported(true);
    if (!config.plain()) {
      options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
          .setCertPath(config.tlsCert().orElseThrow().toString())
          .setKeyPath(config.tlsKey().orElseThrow().toString()));
    }
    return vertx.createHttpServer(options).requestHandler(router).listen()
        .onSuccess(s -> server = s);
  }

  private static Route protect(Route route, List<Handler<RoutingContext>> guard) {
    guard.forEach(route::handler);
    return route;
  }

  /** The port actually bound (useful when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  private static void requestId(RoutingContext ctx) {
    String id = UUID.randomUUID().toString();
    ctx.put(REQUEST_ID, id);
    ctx.response().putHeader("X-Request-Id", id);
    ctx.next();
  }

  private void ingest(RoutingContext ctx) {
    long received = System.nanoTime();
    String agentId = TokenGuard.subject(ctx);
    StoreEvents request;
    try {
      request = new StoreEvents(agentId, EventBatchParser.parse(ctx.body().buffer()));
    } catch (BadRequest e) {
      badRequest(ctx, agentId, e);
      return;
    }
    vertx.eventBus().<StoreResult>request(Addresses.EVENTS_STORE, request, Messages.request())
        .onSuccess(reply -> {
          StoreResult result = reply.body();
          Meters.ingested(result.accepted(), result.duplicates());
          Meters.acknowledged(Duration.ofNanos(System.nanoTime() - received));
          ctx.json(new JsonObject().put("accepted", result.accepted()).put("duplicates", result.duplicates()));
        })
        .onFailure(ctx::fail);
  }

  private void heartbeat(RoutingContext ctx) {
    String agentId = TokenGuard.subject(ctx);
    Heartbeat heartbeat;
    try {
      heartbeat = EventBatchParser.heartbeat(agentId, ctx.body().buffer());
    } catch (BadRequest e) {
      badRequest(ctx, agentId, e);
      return;
    }
    vertx.eventBus().request(Addresses.AGENTS_HEARTBEAT, heartbeat, Messages.request())
        .onSuccess(reply -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  static void badRequest(RoutingContext ctx, String subject, BadRequest e) {
    log.info("rejected request [{}, {}, {}, {}]", kv("path", ctx.normalizedPath()), kv("subject", subject),
        kv("reason", e.getMessage()), kv(REQUEST_ID, ctx.get(REQUEST_ID)));
    Meters.refused(400);
    ctx.response().setStatusCode(400)
        .putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", e.getMessage()).put("field", e.field()).encode());
  }

  private static void noRoute(RoutingContext ctx, int status, String message) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }

  private void failure(RoutingContext ctx) {
    Throwable err = ctx.failure();
    int status = ctx.statusCode();
    String message;
    if (err instanceof ReplyException) {
      // storage down, overloaded or timed out: the agent keeps the batch and retries
      status = 503;
      message = "storage unavailable, retry later";
      log.warn("answering 503 [{}, {}, {}]", kv("path", ctx.normalizedPath()), kv("cause", err.getMessage()),
          kv(REQUEST_ID, ctx.get(REQUEST_ID)));
    } else if (status == 401) {
      message = "missing, invalid or revoked token";
    } else if (status == 413) {
      message = "body larger than the limit";
    } else if (status >= 400 && status < 500) {
      message = "bad request";
    } else {
      status = 500;
      message = "internal error";
      log.error("request failed [{}, {}]", kv("path", ctx.normalizedPath()), kv(REQUEST_ID, ctx.get(REQUEST_ID)), err);
    }
    Meters.refused(status);
    var response = ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json");
    if (status == 503) {
      response.putHeader("Retry-After", RETRY_AFTER_SECONDS);
    }
    response.end(new JsonObject().put("error", message).encode());
  }
}
