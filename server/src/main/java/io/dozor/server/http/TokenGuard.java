package io.dozor.server.http;

import static net.logstash.logback.argument.StructuredArguments.kv;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.auth.Secrets;
import io.dozor.server.auth.TokenCache;
import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages;
import io.dozor.server.bus.Messages.TokenCheck;
import io.dozor.server.bus.Messages.TokenStatus;
import io.dozor.server.ops.Meters;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.auth.User;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.JWTAuthHandler;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authentication for one kind of token: the JWT signature, algorithm, issuer and audience, then the
 * token id must be registered for that subject and not revoked: asked of PostgreSQL, or answered by the
 * process's {@link TokenCache} when PostgreSQL said so less than {@code auth.token_cache_ttl} ago.
 */
final class TokenGuard {
    private static final Logger log = LoggerFactory.getLogger(TokenGuard.class);
    /** The routing context's key of why a request is answered 401 (a label of {@code dozor_auth_failures_total}). */
    static final String FAILURE_REASON = "dozor.auth.failure";

    private final Vertx vertx;
    private final AgentTokens.Kind kind;
    private final JWTAuthHandler jwt;
    private final TokenCache cache;

    TokenGuard(Vertx vertx, List<String> secrets, AgentTokens.Kind kind, TokenCache cache) {
        this.vertx = vertx;
        this.kind = kind;
        this.cache = cache;
        this.jwt = JWTAuthHandler.create(AgentTokens.auth(vertx, secrets, kind));
    }

    /** The handlers to put before a protected route's own. */
    List<Handler<RoutingContext>> handlers() {
        return List.of(jwt, this::requireActive);
    }

    /**
     * The same with {@code afterSignature} between the signature check and the registration check: it knows
     * the subject, and may refuse before the registration check costs a database query.
     */
    List<Handler<RoutingContext>> handlers(Handler<RoutingContext> afterSignature) {
        return List.of(jwt, afterSignature, this::requireActive);
    }

    /** The subject of an authenticated request: the agent id, or the admin's name. */
    static String subject(RoutingContext ctx) {
        return ctx.user().principal().getString(AgentTokens.CLAIM_AGENT);
    }

    private void requireActive(RoutingContext ctx) {
        User user = ctx.user();
        String subject = user.principal().getString(AgentTokens.CLAIM_AGENT);
        UUID tokenId;
        try {
            tokenId = UUID.fromString(user.principal().getString(AgentTokens.CLAIM_TOKEN_ID, ""));
        } catch (IllegalArgumentException e) {
            ctx.fail(401);
            return;
        }
        if (subject == null || subject.isBlank()) {
            ctx.fail(401);
            return;
        }
        if (cache.active(tokenId, subject, kind)) {
            Meters.tokenChecked(true);
            ctx.next();
            return;
        }
        Meters.tokenChecked(false);
        long generation = cache.generation();
        vertx.eventBus()
                .<TokenStatus>request(
                        Addresses.TOKENS_CHECK, new TokenCheck(tokenId, subject, kind), Messages.request())
                .onSuccess(reply -> {
                    if (reply.body().active()) {
                        cache.put(tokenId, subject, kind, reply.body().remainingMillis(), generation);
                        ctx.next();
                    } else {
                        // the token id is a bearer's secret half: only a hash prefix goes to the logs
                        log.warn(
                                "refused revoked, expired or unknown token [{}, {}, {}, {}]",
                                kv("kind", kind.column),
                                kv("agent_id", subject),
                                kv("token_hash", Secrets.hashPrefix(tokenId.toString())),
                                kv(IngestVerticle.REQUEST_ID, ctx.get(IngestVerticle.REQUEST_ID)));
                        ctx.put(FAILURE_REASON, "revoked");
                        ctx.fail(401);
                    }
                })
                .onFailure(ctx::fail);
    }
}
