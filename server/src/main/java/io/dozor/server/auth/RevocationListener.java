package io.dozor.server.auth;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.store.Sql;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the {@link TokenCache} true to PostgreSQL: one connection of its own (outside the pool) that LISTENs on
 * {@link Sql#TOKEN_REVOKED_CHANNEL} and drops each token id notified, at the commit of its revocation by any client.
 * When that connection is lost it reconnects (after 0.1 s, doubling to 5 s) and then clears the whole cache, as
 * notifications sent meanwhile are lost; until then cached tokens are trusted for at most
 * {@code auth.token_cache_ttl}.
 */
public final class RevocationListener extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(RevocationListener.class);
    static final long MAX_RECONNECT_DELAY_MS = 5_000;

    private final ServerConfig.Postgres config;
    private final TokenCache cache;
    private PgSubscriber subscriber;

    public RevocationListener(ServerConfig.Postgres config, TokenCache cache) {
        this.config = config;
        this.cache = cache;
    }

    @Override
    public Future<?> start() {
        subscriber = PgSubscriber.subscriber(vertx, PgConnectOptions.fromUri(config.url()))
                .reconnectPolicy(this::reconnectDelay);
        subscriber
                .channel(Sql.TOKEN_REVOKED_CHANNEL)
                .subscribeHandler(v -> {
                    // (re)connected and listening: whatever was revoked while nobody listened is unknown
                    cache.clear();
                    log.info("listening for token revocations; token cache cleared");
                })
                .handler(this::revoked);
        return subscriber.connect();
    }

    /** Called when the connection is lost ({@code retries} 0) and after each failed attempt: always retry. */
    private long reconnectDelay(int retries) {
        long delay = Math.min(MAX_RECONNECT_DELAY_MS, 100L << Math.min(retries, 6));
        if (retries == 0) {
            log.warn("token revocation listener lost its connection, reconnecting; meanwhile cached tokens are"
                    + " trusted until their cache lifetime (auth.token_cache_ttl) ends");
        }
        return delay;
    }

    private void revoked(String payload) {
        if ("*".equals(payload)) {
            cache.clear();
            return;
        }
        try {
            cache.evict(UUID.fromString(payload));
        } catch (IllegalArgumentException e) {
            // not ours (someone else notifying on the channel): drop everything rather than guess
            log.warn("unexpected payload on {}, token cache cleared", Sql.TOKEN_REVOKED_CHANNEL);
            cache.clear();
        }
    }

    @Override
    public Future<?> stop() {
        return subscriber == null ? Future.succeededFuture() : subscriber.close();
    }
}
