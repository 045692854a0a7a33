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
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** {@code token create|list|revoke}: token ids live in PostgreSQL, the token itself is never stored. */
final class TokenAdmin {
  record TokenRow(UUID tokenId, String kind, String agentId, String createdAt, String revokedAt) {}

  private TokenAdmin() {}

  static String create(ServerConfig config, String subject, AgentTokens.Kind kind) {
    return withPool(config, (vertx, pool) -> {
      UUID tokenId = UUID.randomUUID();
      return pool.preparedQuery(Sql.TOKEN_CREATE).execute(Tuple.of(tokenId, subject, kind.column))
          .map(done -> AgentTokens.create(AgentTokens.auth(vertx, config.auth().tokenSecret(), kind), subject,
              tokenId, kind));
    });
  }

  static List<TokenRow> list(ServerConfig config) {
    return withPool(config, (vertx, pool) -> pool.query(Sql.TOKEN_LIST).execute().map(rows -> {
      List<TokenRow> out = new ArrayList<>();
      for (Row r : rows) {
        out.add(new TokenRow(r.getUUID("token_id"), r.getString("kind"), r.getString("agent_id"),
            String.valueOf(r.getOffsetDateTime("created_at")),
            r.getOffsetDateTime("revoked_at") == null ? "" : r.getOffsetDateTime("revoked_at").toString()));
      }
      return out;
    }));
  }

  /** Revokes one token by id, or every agent token of an agent; returns how many were revoked. */
  static int revoke(ServerConfig config, UUID tokenId, String agentId) {
    return tokenId != null
        ? withPool(config, (vertx, pool) -> pool.preparedQuery(Sql.TOKEN_REVOKE_BY_ID).execute(Tuple.of(tokenId))
            .map(r -> r.rowCount()))
        : revokeAll(config, AgentTokens.Kind.AGENT, agentId);
  }

  /**
   * Revokes every token of {@code name} of one kind (an agent's, or an admin's): an admin named like an
   * agent keeps its tokens when the agent's are revoked, and the other way round.
   */
  static int revokeAll(ServerConfig config, AgentTokens.Kind kind, String name) {
    return withPool(config, (vertx, pool) -> pool.preparedQuery(Sql.TOKEN_REVOKE_BY_SUBJECT)
        .execute(Tuple.of(name, kind.column)).map(r -> r.rowCount()));
  }

  private interface Action<T> {
    Future<T> run(Vertx vertx, Pool pool);
  }

  private static <T> T withPool(ServerConfig config, Action<T> action) {
    try (CliDatabase db = CliDatabase.open(config)) {
      return action.run(db.vertx(), db.pool()).await();
    }
  }

}
