package io.dozor.server.auth;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.util.UUID;

/**
 * Agent tokens are JWTs signed with HMAC-SHA256 by the server's secret. Only HS256 is configured, so a
 * token with {@code alg: none} or any other algorithm finds no key and is refused; issuer and audience
 * are checked too. Every server with the same secret accepts the same tokens.
 */
public final class AgentTokens {
  public static final String ALGORITHM = "HS256";
  public static final String ISSUER = "dozor";
  public static final String AUDIENCE = "dozor-agent";
  public static final String CLAIM_AGENT = "sub";
  public static final String CLAIM_TOKEN_ID = "jti";

  private AgentTokens() {}

  public static JWTAuth auth(Vertx vertx, String secret) {
    return JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm(ALGORITHM).setBuffer(secret))
        .setJWTOptions(new JWTOptions().setIssuer(ISSUER).addAudience(AUDIENCE).setLeeway(30)));
  }

  /** A new token naming the agent and its token id (the id is what {@code token revoke} marks). */
  public static String create(JWTAuth auth, String agentId, UUID tokenId) {
    return auth.generateToken(
        new JsonObject().put(CLAIM_AGENT, agentId).put(CLAIM_TOKEN_ID, tokenId.toString()),
        new JWTOptions().setAlgorithm(ALGORITHM).setIssuer(ISSUER).addAudience(AUDIENCE));
  }
}
