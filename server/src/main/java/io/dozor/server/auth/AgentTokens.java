package io.dozor.server.auth;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.util.UUID;

/**
 * Tokens are JWTs signed with HMAC-SHA256 by the server's secret. Only HS256 is configured, so a token
 * with {@code alg: none} or any other algorithm finds no key and is refused; issuer and audience are
 * checked too, and the audience keeps agent tokens off the admin API and admin tokens off ingest.
 * Every server with the same secret accepts the same tokens.
 */
public final class AgentTokens {
  public static final String ALGORITHM = "HS256";
  public static final String ISSUER = "dozor";
  public static final String AUDIENCE = Kind.AGENT.audience;
  public static final String CLAIM_AGENT = "sub";
  public static final String CLAIM_TOKEN_ID = "jti";

  /** What a token is for; stored with its id and named in its audience. */
  public enum Kind {
    AGENT("agent", "dozor-agent"),
    ADMIN("admin", "dozor-admin");

    public final String column;
    public final String audience;

    Kind(String column, String audience) {
      this.column = column;
      this.audience = audience;
    }
  }

  private AgentTokens() {}

  public static JWTAuth auth(Vertx vertx, String secret, Kind kind) {
    return JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm(ALGORITHM).setBuffer(secret))
        .setJWTOptions(new JWTOptions().setIssuer(ISSUER).addAudience(kind.audience).setLeeway(30)));
  }

  /** A new token naming its subject (agent id or admin name) and its token id. */
  public static String create(JWTAuth auth, String subject, UUID tokenId, Kind kind) {
    return auth.generateToken(
        new JsonObject().put(CLAIM_AGENT, subject).put(CLAIM_TOKEN_ID, tokenId.toString()),
        new JWTOptions().setAlgorithm(ALGORITHM).setIssuer(ISSUER).addAudience(kind.audience));
  }
}
