package io.dozor.server;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.config.ConfigException;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.store.Sql;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * {@code enrollment create|list|revoke}. An enrollment token is a JWT (audience {@code dozor-enroll}, {@code sub}
 * = its name, {@code jti} = its id, {@code exp} = its expiry); its uses, expiry and revocation are kept in
 * {@code enrollment_tokens} and checked at each enrolment.
 */
final class EnrollmentAdmin {
    record EnrollmentRow(
            String name, UUID tokenId, int maxUses, int uses, String createdAt, String expiresAt, String revokedAt) {}

    private EnrollmentAdmin() {}

    static String create(ServerConfig config, String name, int uses, Duration expires) {
        return TokenAdmin.withPool(config, (vertx, pool) -> {
            UUID tokenId = UUID.randomUUID();
            return pool.preparedQuery(Sql.ENROLLMENT_CREATE)
                    .execute(Tuple.of(name, tokenId, uses, expires.toSeconds()))
                    .compose(rows -> rows.rowCount() == 1
                            ? Future.succeededFuture(AgentTokens.create(
                                    AgentTokens.signer(vertx, config.auth().tokenSecrets()),
                                    name,
                                    tokenId,
                                    AgentTokens.Kind.ENROLLMENT,
                                    expires))
                            : Future.failedFuture(new ConfigException("--name: an enrollment token named " + name
                                    + " exists already (see enrollment list; names are never reused)")));
        });
    }

    static List<EnrollmentRow> list(ServerConfig config) {
        return TokenAdmin.withPool(
                config,
                (vertx, pool) -> pool.query(Sql.ENROLLMENT_LIST).execute().map(rows -> {
                    List<EnrollmentRow> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(new EnrollmentRow(
                                r.getString("name"),
                                r.getUUID("token_id"),
                                r.getInteger("max_uses"),
                                r.getInteger("uses"),
                                TokenAdmin.text(r.getOffsetDateTime("created_at")),
                                TokenAdmin.text(r.getOffsetDateTime("expires_at")),
                                TokenAdmin.text(r.getOffsetDateTime("revoked_at"))));
                    }
                    return out;
                }));
    }

    /** Whether a token of that name was still unrevoked. */
    static boolean revoke(ServerConfig config, String name) {
        return TokenAdmin.withPool(
                config,
                (vertx, pool) -> pool.preparedQuery(Sql.ENROLLMENT_REVOKE)
                        .execute(Tuple.of(name))
                        .map(r -> r.rowCount() == 1));
    }
}
