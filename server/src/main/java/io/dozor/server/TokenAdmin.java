package io.dozor.server;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.store.CliDatabase;
import io.dozor.server.store.Sql;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** {@code token create|list|revoke}: token ids live in PostgreSQL, the token itself is never stored. */
final class TokenAdmin {
    /** {@code enrolled}: an enrolled agent's session (renewed access tokens and a refresh credential). */
    record TokenRow(
            UUID tokenId,
            String kind,
            String agentId,
            String createdAt,
            String expiresAt,
            String revokedAt,
            boolean enrolled) {}

    private TokenAdmin() {}

    /** A token of the default lifetime, {@code auth.token_ttl}. */
    static String create(ServerConfig config, String subject, AgentTokens.Kind kind) {
        return create(config, subject, kind, config.auth().tokenTtl());
    }

    static String create(ServerConfig config, String subject, AgentTokens.Kind kind, Duration ttl) {
        return withPool(config, (vertx, pool) -> {
            UUID tokenId = UUID.randomUUID();
            return pool.preparedQuery(Sql.TOKEN_CREATE)
                    .execute(Tuple.of(tokenId, subject, kind.column, ttl.toSeconds()))
                    .map(done -> AgentTokens.create(
                            AgentTokens.signer(vertx, config.auth().tokenSecrets()), subject, tokenId, kind, ttl));
        });
    }

    static List<TokenRow> list(ServerConfig config) {
        return withPool(
                config,
                (vertx, pool) -> pool.query(Sql.TOKEN_LIST).execute().map(rows -> {
                    List<TokenRow> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(new TokenRow(
                                r.getUUID("token_id"),
                                r.getString("kind"),
                                r.getString("agent_id"),
                                String.valueOf(r.getOffsetDateTime("created_at")),
                                String.valueOf(r.getOffsetDateTime("expires_at")),
                                text(r.getOffsetDateTime("revoked_at")),
                                r.getBoolean("enrolled")));
                    }
                    return out;
                }));
    }

    static String text(OffsetDateTime t) {
        return t == null ? "" : t.toString();
    }

    /** Revokes one token by id, or every agent token of an agent; returns how many were revoked. */
    static int revoke(ServerConfig config, UUID tokenId, String agentId) {
        return tokenId != null
                ? withPool(
                        config,
                        (vertx, pool) -> pool.preparedQuery(Sql.TOKEN_REVOKE_BY_ID)
                                .execute(Tuple.of(tokenId))
                                .map(r -> r.rowCount()))
                : revokeAll(config, AgentTokens.Kind.AGENT, agentId);
    }

    /**
     * Revokes every token of {@code name} of one kind (an agent's, or an admin's): an admin named like an
     * agent keeps its tokens when the agent's are revoked, and the other way round.
     */
    static int revokeAll(ServerConfig config, AgentTokens.Kind kind, String name) {
        return withPool(
                config,
                (vertx, pool) -> pool.preparedQuery(Sql.TOKEN_REVOKE_BY_SUBJECT)
                        .execute(Tuple.of(name, kind.column))
                        .map(r -> r.rowCount()));
    }

    interface Action<T> {
        Future<T> run(Vertx vertx, Pool pool);
    }

    static <T> T withPool(ServerConfig config, Action<T> action) {
        try (CliDatabase db = CliDatabase.open(config)) {
            return action.run(db.vertx(), db.pool()).await();
        }
    }
}
