package io.dozor.server.auth;

import static net.logstash.logback.argument.StructuredArguments.kv;

import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages.Credential;
import io.dozor.server.bus.Messages.EnrollRequest;
import io.dozor.server.bus.Messages.RefreshRequest;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.store.Sql;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enrolment and renewal, each one PostgreSQL transaction. Enrolment claims an agent id (the host name, else the
 * host name with a suffix: a PC never gets an id already enrolled or given a token), then, in its last statement
 * ({@link Sql#ENROLLMENT_SPEND}), spends one use of the enrollment token and opens a session: a row of {@code
 * agent_tokens} whose id every access token carries as {@code jti}, with the SHA-256 of a random refresh
 * credential. The token's row is locked from that statement to the commit only, so enrolments with one token
 * overlap but for that moment. An enrolment with an enrollment key that an earlier, committed attempt of the same
 * installation already used ({@link Sql#ENROLLMENT_REPLAY}) gets a new session for that agent instead, no use
 * spent. Renewal replaces the refresh credential and signs a new access token. Revoking the row ends both at once.
 */
public final class CredentialsVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(CredentialsVerticle.class);
    /** Ids tried with a numeric suffix ({@code PC-01-2} … {@code PC-01-9}) before a random one. */
    private static final int NUMBERED_IDS = 9;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Pool pool;
    private final ServerConfig.Auth auth;
    private JWTAuth signer;

    public CredentialsVerticle(Pool pool, ServerConfig.Auth auth) {
        this.pool = pool;
        this.auth = auth;
    }

    @Override
    public Future<?> start() {
        signer = AgentTokens.signer(vertx, auth.tokenSecrets());
        var bus = vertx.eventBus();
        return Future.all(
                bus.<EnrollRequest>consumer(Addresses.CREDENTIALS_ENROLL, this::enroll)
                        .completion(),
                bus.<RefreshRequest>consumer(Addresses.CREDENTIALS_REFRESH, this::refresh)
                        .completion());
    }

    private void enroll(Message<EnrollRequest> message) {
        EnrollRequest request = message.body();
        String refresh = newRefreshCredential();
        UUID session = UUID.randomUUID();
        byte[] key = request.enrollmentKey() == null ? null : Secrets.sha256(request.enrollmentKey());
        pool.withTransaction(conn -> replay(conn, request, key, session, refresh)
                        .compose(replayed -> replayed != null
                                ? Future.succeededFuture(new Enrolled(replayed, true))
                                : claimId(conn, request, key, request.hostname(), 1)
                                        .compose(agentId -> spend(conn, request, agentId, session, refresh))
                                        .map(agentId -> new Enrolled(agentId, false))))
                .onSuccess(enrolled -> {
                    if (enrolled.replayed()) {
                        log.info(
                                "agent enrolment retried: the answer to an attempt that committed was lost; its"
                                        + " credential is replaced, no use spent [{}, {}, {}]",
                                kv("agent_id", enrolled.agentId()),
                                kv("hostname", request.hostname()),
                                kv("enrollment", request.name()));
                    } else {
                        log.info(
                                "agent enrolled [{}, {}, {}, {}]",
                                kv("agent_id", enrolled.agentId()),
                                kv("hostname", request.hostname()),
                                kv("enrollment", request.name()),
                                kv("os", request.os()));
                    }
                    message.reply(credential(enrolled.agentId(), session, refresh));
                })
                .onFailure(err -> {
                    if (err instanceof Refused refused) {
                        log.warn(
                                "enrolment refused [{}, {}, {}]",
                                kv("enrollment", request.name()),
                                kv("hostname", request.hostname()),
                                kv("reason", refused.reason));
                        message.reply(Credential.refused(refused.reason));
                    } else {
                        message.fail(503, "credential store unavailable: " + err.getMessage());
                    }
                });
    }

    /** Which agent an enrolment gave, and whether it was a retry of one that had committed. */
    private record Enrolled(String agentId, boolean replayed) {}

    /** Why an enrolment spent nothing; fails (so rolls back) its transaction. */
    private static final class Refused extends RuntimeException {
        final String reason;

        Refused(String reason) {
            super(reason, null, false, false);
            this.reason = reason;
        }
    }

    /**
     * A retry of an enrolment that committed (its answer was lost): the agent it created, now with a new session
     * in place of the one the agent never received; null when there is no such agent (or no key) and the
     * enrolment is a new one. Attempts with the same key wait for each other first, so a retry that arrives while
     * the first attempt is still running finds its agent once that commits.
     */
    private Future<String> replay(SqlConnection conn, EnrollRequest request, byte[] key, UUID session, String refresh) {
        if (key == null) {
            return Future.succeededFuture();
        }
        return conn.preparedQuery(Sql.ENROLLMENT_KEY_LOCK)
                .execute(Tuple.of(ByteBuffer.wrap(key).getLong()))
                .compose(locked -> conn.preparedQuery(Sql.ENROLLMENT_REPLAY)
                        .execute(Tuple.of(
                                request.tokenId(),
                                request.name(),
                                Buffer.buffer(key),
                                session,
                                auth.refreshTokenTtl().toSeconds(),
                                hash(refresh))))
                .map(rows ->
                        rows.rowCount() == 0 ? null : rows.iterator().next().getString("agent_id"));
    }

    /**
     * The last statement: spends a use and opens the agent's session, or fails with why the token gave none. The
     * token's row stays locked from here to the commit only.
     */
    private Future<String> spend(
            SqlConnection conn, EnrollRequest request, String agentId, UUID session, String refresh) {
        return conn.preparedQuery(Sql.ENROLLMENT_SPEND)
                .execute(Tuple.of(
                        request.tokenId(),
                        request.name(),
                        session,
                        agentId,
                        auth.refreshTokenTtl().toSeconds(),
                        hash(refresh)))
                .compose(rows -> rows.rowCount() == 1
                        ? Future.succeededFuture(agentId)
                        : conn.preparedQuery(Sql.ENROLLMENT_WHY_NOT)
                                .execute(Tuple.of(request.tokenId(), request.name()))
                                .compose(why -> Future.failedFuture(new Refused(reason(why)))));
    }

    /** The first free id of host name, host name-2 … host name-9, then host name-(8 random hex digits). */
    private Future<String> claimId(
            SqlConnection conn, EnrollRequest request, byte[] key, String candidate, int attempt) {
        return conn.preparedQuery(Sql.ENROLLMENT_CLAIM_ID)
                .execute(Tuple.of(
                        candidate,
                        request.hostname(),
                        request.os(),
                        request.name(),
                        key == null ? null : Buffer.buffer(key)))
                .compose(rows -> {
                    if (rows.rowCount() == 1) {
                        return Future.succeededFuture(candidate);
                    }
                    if (attempt > NUMBERED_IDS + 3) {
                        return Future.failedFuture(
                                new IllegalStateException("no free agent id for " + request.hostname()));
                    }
                    String next = attempt < NUMBERED_IDS
                            ? request.hostname() + "-" + (attempt + 1)
                            : request.hostname() + "-" + HexFormat.of().toHexDigits(RANDOM.nextInt());
                    return claimId(conn, request, key, next, attempt + 1);
                });
    }

    private static String reason(RowSet<Row> rows) {
        if (rows.rowCount() == 0) {
            return "enrollment_unknown";
        }
        Row row = rows.iterator().next();
        return row.getBoolean("revoked")
                ? "enrollment_revoked"
                : row.getBoolean("expired") ? "enrollment_expired" : "enrollment_used_up";
    }

    private void refresh(Message<RefreshRequest> message) {
        String next = newRefreshCredential();
        pool.preparedQuery(Sql.SESSION_REFRESH)
                .execute(Tuple.of(
                        hash(message.body().refreshToken()),
                        hash(next),
                        auth.refreshTokenTtl().toSeconds()))
                .map(rows -> {
                    if (rows.rowCount() == 0) {
                        return Credential.refused("refresh_refused");
                    }
                    Row row = rows.iterator().next();
                    return credential(row.getString("agent_id"), row.getUUID("token_id"), next);
                })
                .onSuccess(credential -> {
                    if (credential.refusal() != null) {
                        log.warn(
                                "token renewal refused: unknown, expired or revoked refresh credential [{}]",
                                kv(
                                        "credential",
                                        Secrets.hashPrefix(message.body().refreshToken())));
                    } else {
                        log.debug("access token renewed [{}]", kv("agent_id", credential.agentId()));
                    }
                    message.reply(credential);
                })
                .onFailure(err -> message.fail(503, "credential store unavailable: " + err.getMessage()));
    }

    private Credential credential(String agentId, UUID session, String refresh) {
        String access = AgentTokens.create(signer, agentId, session, AgentTokens.Kind.AGENT, auth.accessTokenTtl());
        return new Credential(agentId, access, auth.accessTokenTtl().toSeconds(), refresh, null);
    }

    /** 32 random bytes, base64url: a refresh credential (only its SHA-256 is stored). */
    private static String newRefreshCredential() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return "dzr_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static Buffer hash(String credential) {
        return Buffer.buffer(Secrets.sha256(credential));
    }
}
