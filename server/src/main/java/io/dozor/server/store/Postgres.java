package io.dozor.server.store;

import io.dozor.server.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/** The one shared connection pool of a server process. */
public final class Postgres {
    private Postgres() {}

    public static Pool pool(Vertx vertx, ServerConfig.Postgres config) {
        PgConnectOptions connect = PgConnectOptions.fromUri(config.url());
        return PgBuilder.pool()
                .with(new PoolOptions()
                        .setMaxSize(config.poolSize())
                        .setConnectionTimeout(5)
                        .setMaxWaitQueueSize(1_000))
                .with(new NetClientOptions().setConnectTimeout(5_000))
                .connectingTo(connect)
                .using(vertx)
                .build();
    }
}
