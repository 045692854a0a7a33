package io.dozor.server.http;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages;
import io.dozor.server.bus.Messages.Credential;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.JWTAuthHandler;
import java.util.List;
import java.util.UUID;

/**
 * How an agent gets and renews its own credential. {@code POST /api/v1/enroll}: an enrollment token (a JWT of
 * audience {@code dozor-enroll}, checked here for signature and {@code exp}) and {@code {"hostname", "os"}} give
 * the agent id, an access token and a refresh credential; with {@code "enrollment_key"} (the agent's secret for
 * all attempts of one enrolment) a retry of an attempt that committed gives the same agent id again. {@code POST /api/v1/token/refresh}: {@code
 * {"refresh_token"}} gives a new access token and a new refresh credential. The database work is
 * {@link io.dozor.server.auth.CredentialsVerticle}'s. A refusal is a 401 naming the reason.
 */
final class CredentialRoutes {
    private CredentialRoutes() {}

    static void mount(Router router, Vertx vertx, List<String> secrets, long bodyLimit) {
        JWTAuthHandler enrollment =
                JWTAuthHandler.create(AgentTokens.auth(vertx, secrets, AgentTokens.Kind.ENROLLMENT));
        router.post(IngestVerticle.ENROLL_PATH)
                .handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
                .handler(enrollment)
                .handler(ctx -> enroll(vertx, ctx));
        router.post(IngestVerticle.REFRESH_PATH)
                .handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
                .handler(ctx -> refresh(vertx, ctx));
    }

    private static void enroll(Vertx vertx, RoutingContext ctx) {
        JsonObject principal = ctx.user().principal();
        UUID tokenId;
        try {
            tokenId = UUID.fromString(principal.getString(AgentTokens.CLAIM_TOKEN_ID, ""));
        } catch (IllegalArgumentException e) {
            ctx.fail(401);
            return;
        }
        String name = principal.getString(AgentTokens.CLAIM_AGENT, "");
        Messages.EnrollRequest request;
        try {
            request = EventBatchParser.enrollment(tokenId, name, ctx.body().buffer());
        } catch (BadRequest e) {
            IngestVerticle.badRequest(ctx, name, e);
            return;
        }
        answer(
                ctx,
                vertx.eventBus()
                        .<Credential>request(Addresses.CREDENTIALS_ENROLL, request, Messages.request())
                        .map(reply -> reply.body()));
    }

    private static void refresh(Vertx vertx, RoutingContext ctx) {
        String refreshToken;
        try {
            refreshToken = EventBatchParser.refreshToken(ctx.body().buffer());
        } catch (BadRequest e) {
            IngestVerticle.badRequest(ctx, null, e);
            return;
        }
        answer(
                ctx,
                vertx.eventBus()
                        .<Credential>request(
                                Addresses.CREDENTIALS_REFRESH,
                                new Messages.RefreshRequest(refreshToken),
                                Messages.request())
                        .map(reply -> reply.body()));
    }

    private static void answer(RoutingContext ctx, Future<Credential> credential) {
        credential
                .onSuccess(c -> {
                    if (c.refusal() != null) {
                        ctx.put(TokenGuard.FAILURE_REASON, c.refusal());
                        ctx.fail(401);
                        return;
                    }
                    ctx.response().putHeader("Cache-Control", "no-store");
                    ctx.json(new JsonObject()
                            .put("agent_id", c.agentId())
                            .put("access_token", c.accessToken())
                            .put("expires_in", c.expiresInSeconds())
                            .put("refresh_token", c.refreshToken()));
                })
                .onFailure(ctx::fail);
    }
}
