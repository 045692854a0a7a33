package io.dozor.server.http;

import static net.logstash.logback.argument.StructuredArguments.kv;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.auth.TokenCache;
import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages;
import io.dozor.server.bus.Messages.Heartbeat;
import io.dozor.server.bus.Messages.StoreEvents;
import io.dozor.server.bus.Messages.StoreResult;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.model.LaunchEvent;
import io.dozor.server.ops.Meters;
import io.dozor.server.ops.OpsVerticle;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS API: the agents' routes (events, heartbeat) here, admin routes mounted from {@link AdminRoutes},
 * and {@code /healthz}. A batch is answered only once the persistence verticle has
 * committed it. Several instances share the port and one {@link Shared}: the connection counts
 * ({@link ConnectionGuard}) and the agents' token buckets ({@link AgentBuckets}; beyond them, 429 with
 * {@code Retry-After}).
 */
public final class IngestVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(IngestVerticle.class);
    static final String RETRY_AFTER_SECONDS = "5";
    static final long HEARTBEAT_BODY_LIMIT = 4_096;
    /** Names each request in the logs (JSON field request_id) and in the answer's X-Request-Id header. */
    static final String REQUEST_ID = "request_id";
    /** The routing context's key of the events parsed (and paid for) before the registration check. */
    private static final String PARSED_EVENTS = "dozor.parsed_events";

    /** Heartbeats per agent: a burst of this many, then one per second. */
    static final int HEARTBEAT_BURST = 10;

    static final double HEARTBEAT_RATE = 1.0;
    static final String EVENTS_PATH = "/api/v1/events";
    static final String HEARTBEAT_PATH = "/api/v1/heartbeat";
    static final String ENROLL_PATH = "/api/v1/enroll";
    static final String REFRESH_PATH = "/api/v1/token/refresh";
    /** Bodies of the enrolment and renewal requests. */
    static final long CREDENTIAL_BODY_LIMIT = 4_096;

    /** How long a 429 is held back at most (see {@link #tooManyRequests}). */
    static final long REFUSAL_DELAY_MS = 1_000;

    private final ServerConfig.Http config;
    private final ServerConfig.Auth auth;
    private final Shared shared;
    private HttpServer server;

    /**
     * What every instance of one server shares.
     *
     * @param events the agents' event buckets ({@code ingest.rate_per_agent}, {@code ingest.burst_per_agent})
     * @param heartbeats the agents' heartbeat buckets (off when the event rate is 0, as the events' are)
     * @param batches one event batch in flight per agent (off when the event rate is 0)
     * @param tokens the token registration checks' answers ({@code auth.token_cache_ttl})
     */
    public record Shared(
            ConnectionGuard.Counts connections,
            AgentBuckets events,
            AgentBuckets heartbeats,
            OneBatchAtATime batches,
            InFlight inFlight,
            EventBatchParser parser,
            TokenCache tokens) {
        /** {@code tokens}: the process's token cache, kept true by its {@link io.dozor.server.auth.RevocationListener}. */
        public static Shared of(ServerConfig config, TokenCache tokens) {
            ServerConfig.Ingest ingest = config.ingest();
            return new Shared(
                    new ConnectionGuard.Counts(config.http()),
                    new AgentBuckets(ingest.ratePerAgent(), ingest.burstPerAgent()),
                    new AgentBuckets(ingest.ratePerAgent() == 0 ? 0 : HEARTBEAT_RATE, HEARTBEAT_BURST),
                    new OneBatchAtATime(ingest.ratePerAgent() != 0),
                    new InFlight(ingest.maxInFlight()),
                    new EventBatchParser(Clock.systemUTC(), ingest.maxFutureSkew()),
                    tokens);
        }
    }

    public IngestVerticle(ServerConfig.Http config, ServerConfig.Auth auth, Shared shared) {
        this.config = config;
        this.auth = auth;
        this.shared = shared;
    }

    @Override
    public Future<?> start() {
        ConnectionGuard guard = new ConnectionGuard(
                vertx, shared.connections(), config.headerTimeout(), config.idleTimeout(), config.bodyTimeout());
        Router router = Router.router(vertx);
        router.route().handler(ctx -> {
            ctx.addEndHandler(ended -> guard.answered(ctx.request().connection()));
            requestId(ctx);
        });
        // liveness only: readiness and metrics are on the ops listener (OpsVerticle), not reachable by agents
        router.get("/healthz").handler(OpsVerticle::healthy);
        TokenGuard agents = new TokenGuard(vertx, auth.tokenSecrets(), AgentTokens.Kind.AGENT, shared.tokens());
        protect(
                        router.post(EVENTS_PATH)
                                .handler(BodyHandler.create(false).setBodyLimit(config.maxBodyBytes())),
                        agents.handlers(this::eventsRate))
                .handler(this::ingest);
        protect(
                        router.post(HEARTBEAT_PATH)
                                .handler(BodyHandler.create(false).setBodyLimit(HEARTBEAT_BODY_LIMIT)),
                        agents.handlers(this::heartbeatRate))
                .handler(this::heartbeat);
        CredentialRoutes.mount(router, vertx, auth.tokenSecrets(), CREDENTIAL_BODY_LIMIT);
        AdminRoutes.mount(
                router,
                vertx,
                new TokenGuard(vertx, auth.tokenSecrets(), AgentTokens.Kind.ADMIN, shared.tokens()).handlers());
        router.route().failureHandler(this::failure);
        // no route for the path, or not for this method: JSON like every other answer (Vert.x would send HTML)
        router.errorHandler(
                404, ctx -> noRoute(ctx, 404, "no such route: " + ctx.request().method() + " " + ctx.normalizedPath()));
        router.errorHandler(
                405,
                ctx -> noRoute(
                        ctx, 405, "method " + ctx.request().method() + " not allowed on " + ctx.normalizedPath()));

        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.host())
                .setPort(config.port())
                .setCompressionSupported(true)
                .setDecompressionSupported(true)
                // HTTP/1.1 only (agents use it): the guard's per-connection deadlines assume one request at a time
                .setHttp2ClearTextEnabled(false)
                .setIdleTimeout(
                        (int) Math.min(Integer.MAX_VALUE, config.idleTimeout().toMillis()))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
        if (!config.plain()) {
            options.setSsl(true)
                    .setKeyCertOptions(new PemKeyCertOptions()
                            .setCertPath(config.tlsCert().orElseThrow().toString())
                            .setKeyPath(config.tlsKey().orElseThrow().toString()))
                    // handshakes (the costly part of TLS) on Vert.x's internal blocking pool, sized by
                    // http.tls_handshake_threads (DozorServer.vertxOptions), so that a reconnecting fleet cannot
                    // starve the event loops that answer the connections already open
                    .setSslEngineOptions(new JdkSSLEngineOptions().setUseWorkerThread(true))
                    .setSslHandshakeTimeout(config.headerTimeout().toMillis())
                    .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
        }
        return vertx.createHttpServer(options)
                .connectionHandler(guard.connectionHandler())
                .requestHandler(guard.requests(router))
                .listen()
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

    /**
     * After the signature, before the token's registration is checked: a batch beyond the process's requests in
     * flight ({@link InFlight}) is refused, so is a second batch of an agent while its first is in flight; then the
     * batch is parsed (CPU only) and its events taken from the agent's bucket, so a batch beyond the rate costs no
     * database query.
     */
    private void eventsRate(RoutingContext ctx) {
        String agentId = TokenGuard.subject(ctx);
        if (agentId == null || agentId.isBlank()) {
            ctx.next(); // refused by the registration check
            return;
        }
        if (!admitted(ctx, agentId)) {
            return;
        }
        if (!shared.batches().enter(agentId)) {
            tooManyRequests(
                    ctx, agentId, REFUSAL_DELAY_MS * 1_000_000, "this agent's previous batch is still being stored");
            return;
        }
        ctx.addEndHandler(ended -> shared.batches().leave(agentId));
        List<LaunchEvent> events;
        try {
            events = shared.parser().parse(ctx.body().buffer());
        } catch (BadRequest e) {
            badRequest(ctx, agentId, e);
            return;
        }
        long wait = shared.events().take(agentId, events.size());
        if (wait > 0) {
            tooManyRequests(ctx, agentId, wait, "too many events from this agent");
            return;
        }
        ctx.put(PARSED_EVENTS, events);
        ctx.next();
    }

    private void heartbeatRate(RoutingContext ctx) {
        String agentId = TokenGuard.subject(ctx);
        if (agentId != null && !admitted(ctx, agentId)) {
            return;
        }
        long wait = agentId == null ? 0 : shared.heartbeats().take(agentId, 1);
        if (wait > 0) {
            tooManyRequests(ctx, agentId, wait, "too many heartbeats from this agent");
        } else {
            ctx.next();
        }
    }

    /** Counts the request in the process's requests in flight until it is answered, or refuses it with 429. */
    private boolean admitted(RoutingContext ctx, String agentId) {
        if (!shared.inFlight().enter()) {
            tooManyRequests(ctx, agentId, InFlight.retryAfterNanos(), "the server is busy with other agents' requests");
            return false;
        }
        ctx.addEndHandler(ended -> shared.inFlight().leave());
        return true;
    }

    private void ingest(RoutingContext ctx) {
        long received = System.nanoTime();
        String agentId = TokenGuard.subject(ctx);
        StoreEvents request = new StoreEvents(agentId, ctx.get(PARSED_EVENTS));
        vertx.eventBus()
                .<StoreResult>request(Addresses.EVENTS_STORE, request, Messages.request())
                .onSuccess(reply -> {
                    StoreResult result = reply.body();
                    Meters.ingested(result.accepted(), result.duplicates());
                    Meters.stored(agentId, result.accepted());
                    Meters.acknowledged(Duration.ofNanos(System.nanoTime() - received));
                    ctx.json(
                            new JsonObject().put("accepted", result.accepted()).put("duplicates", result.duplicates()));
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
        vertx.eventBus()
                .request(Addresses.AGENTS_HEARTBEAT, heartbeat, Messages.request())
                .onSuccess(reply -> ctx.response().setStatusCode(204).end())
                .onFailure(ctx::fail);
    }

    /**
     * 429 with the whole seconds until the agent's bucket holds what was asked. The answer is held back up to
     * {@link #REFUSAL_DELAY_MS} (never past the wait): an agent that ignores Retry-After and resends at once costs
     * the server one request per connection per that delay, not as many as its loop can make; an agent that
     * honours Retry-After waits anyway.
     */
    private void tooManyRequests(RoutingContext ctx, String agentId, long waitNanos, String why) {
        long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
        log.debug(
                "rate limited [{}, {}, {}]",
                kv("agent_id", agentId),
                kv("retry_after_s", seconds),
                kv(REQUEST_ID, ctx.get(REQUEST_ID)));
        refused(ctx, 429);
        vertx.setTimer(Math.max(1, Math.min(REFUSAL_DELAY_MS, waitNanos / 1_000_000)), id -> {
            if (!ctx.response().ended() && !ctx.response().closed()) {
                ctx.response()
                        .setStatusCode(429)
                        .putHeader("Content-Type", "application/json")
                        .putHeader("Retry-After", Long.toString(seconds))
                        .end(new JsonObject()
                                .put("error", why + "; retry after " + seconds + " s")
                                .encode());
            }
        });
    }

    /** {@code dozor_ingest_refused_total} counts the agents' requests only, not the admin API's or stray ones. */
    private static void refused(RoutingContext ctx, int status) {
        String path = ctx.normalizedPath();
        if (ctx.request().method() == HttpMethod.POST
                && (EVENTS_PATH.equals(path)
                        || HEARTBEAT_PATH.equals(path)
                        || ENROLL_PATH.equals(path)
                        || REFRESH_PATH.equals(path))) {
            Meters.refused(status);
        }
    }

    static void badRequest(RoutingContext ctx, String subject, BadRequest e) {
        log.info(
                "rejected request [{}, {}, {}, {}]",
                kv("path", ctx.normalizedPath()),
                kv("subject", subject),
                kv("reason", e.getMessage()),
                kv(REQUEST_ID, ctx.get(REQUEST_ID)));
        refused(ctx, 400);
        ctx.response()
                .setStatusCode(400)
                .putHeader("Content-Type", "application/json")
                .end(new JsonObject()
                        .put("error", e.getMessage())
                        .put("field", e.field())
                        .encode());
    }

    private static void noRoute(RoutingContext ctx, int status, String message) {
        if (ctx.response().ended()) {
            return;
        }
        ctx.response()
                .setStatusCode(status)
                .putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("error", message).encode());
    }

    /** Why a 401: set by the guard or the credential routes, else the JWT check failed (signature, audience, exp). */
    private static String failureReason(RoutingContext ctx) {
        if (ctx.get(TokenGuard.FAILURE_REASON) instanceof String reason) {
            return reason;
        }
        return ENROLL_PATH.equals(ctx.normalizedPath()) ? "enrollment_invalid" : "invalid_token";
    }

    private void failure(RoutingContext ctx) {
        Throwable err = ctx.failure();
        int status = ctx.statusCode();
        String message;
        if (err instanceof HttpClosedException) {
            // the client went away or its connection was closed (e.g. its body was too slow): no one to answer
            log.debug(
                    "connection closed before the answer [{}, {}]",
                    kv("path", ctx.normalizedPath()),
                    kv(REQUEST_ID, ctx.get(REQUEST_ID)));
            return;
        }
        if (err instanceof ReplyException) {
            // storage down, overloaded or timed out: the agent keeps the batch and retries
            status = 503;
            message = "storage unavailable, retry later";
            log.warn(
                    "answering 503 [{}, {}, {}]",
                    kv("path", ctx.normalizedPath()),
                    kv("cause", err.getMessage()),
                    kv(REQUEST_ID, ctx.get(REQUEST_ID)));
        } else if (status == 401) {
            message = "missing, invalid, expired or revoked token";
            Meters.authFailure(failureReason(ctx));
        } else if (status == 413) {
            message = "body larger than the limit";
        } else if (status >= 400 && status < 500) {
            message = "bad request";
        } else {
            status = 500;
            message = "internal error";
            log.error(
                    "request failed [{}, {}]",
                    kv("path", ctx.normalizedPath()),
                    kv(REQUEST_ID, ctx.get(REQUEST_ID)),
                    err);
        }
        refused(ctx, status);
        var response = ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json");
        if (status == 503) {
            response.putHeader("Retry-After", RETRY_AFTER_SECONDS);
        }
        JsonObject body = new JsonObject().put("error", message);
        if (status == 401) {
            body.put("reason", failureReason(ctx));
        }
        response.end(body.encode());
    }
}
