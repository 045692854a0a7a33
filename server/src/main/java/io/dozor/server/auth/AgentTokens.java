package io.dozor.server.auth;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * Tokens are JWTs signed with HMAC-SHA256 by the server's secret. Only HS256 is configured, so a token
 * with {@code alg: none} or any other algorithm finds no key and is refused; issuer and audience are
 * checked too, and the audience keeps agent tokens off the admin API and admin tokens off ingest.
 * Every server with the same secret accepts the same tokens.
 *
 * <p>Keys: the first of {@code auth.token_secret} signs, every one listed verifies; each token names its key
 * in the {@code kid} header ({@link Secrets#keyId}), so a new key can be put first and the old one kept
 * until every token it signed has been renewed. Every token carries {@code exp}.
 */
public final class AgentTokens {
    public static final String ALGORITHM = "HS256";
    public static final String ISSUER = "dozor";
    public static final String AUDIENCE = Kind.AGENT.audience;
    public static final String CLAIM_AGENT = "sub";
    public static final String CLAIM_TOKEN_ID = "jti";
    /** Seconds of clock difference tolerated on {@code exp}. */
    static final int LEEWAY_SECONDS = 5;

    /** What a token is for; stored with its id and named in its audience. */
    public enum Kind {
        AGENT("agent", "dozor-agent"),
        ADMIN("admin", "dozor-admin"),
        /** An enrollment token: only {@code POST /api/v1/enroll} takes it (table {@code enrollment_tokens}). */
        ENROLLMENT("enrollment", "dozor-enroll");

        public final String column;
        public final String audience;

        Kind(String column, String audience) {
            this.column = column;
            this.audience = audience;
        }
    }

    private AgentTokens() {}

    /** Verifies tokens of one kind signed by any of {@code secrets}. */
    public static JWTAuth auth(Vertx vertx, List<String> secrets, Kind kind) {
        JWTAuthOptions options = new JWTAuthOptions()
                .setJWTOptions(new JWTOptions()
                        .setIssuer(ISSUER)
                        .addAudience(kind.audience)
                        .setLeeway(LEEWAY_SECONDS));
        secrets.forEach(secret -> options.addPubSecKey(key(secret)));
        return JWTAuth.create(vertx, options);
    }

    /** Signs with the first of {@code secrets} only (a JWTAuth with several keys signs with any of them). */
    public static JWTAuth signer(Vertx vertx, List<String> secrets) {
        return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(key(secrets.getFirst())));
    }

    private static PubSecKeyOptions key(String secret) {
        return new PubSecKeyOptions().setAlgorithm(ALGORITHM).setBuffer(secret).setId(Secrets.keyId(secret));
    }

    /** A new token naming its subject (agent id, admin or enrollment name) and its id, valid for {@code ttl}. */
    public static String create(JWTAuth signer, String subject, UUID tokenId, Kind kind, Duration ttl) {
        return signer.generateToken(
                new JsonObject().put(CLAIM_AGENT, subject).put(CLAIM_TOKEN_ID, tokenId.toString()),
                new JWTOptions()
                        .setAlgorithm(ALGORITHM)
                        .setIssuer(ISSUER)
                        .addAudience(kind.audience)
                        .setExpiresInSeconds((int) Math.min(Integer.MAX_VALUE, Math.max(1, ttl.toSeconds()))));
    }
}
