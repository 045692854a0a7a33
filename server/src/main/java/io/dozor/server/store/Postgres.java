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
        // Every statement of the server is a short index lookup or a bounded batch; PostgreSQL's JIT compiles a plan
        // whose estimated cost passes jit_above_cost (estimates over partitions run high: the outbox claim's reached
        // it as the month grew) for 17 to 550 ms per execution, against a few ms to run it.
        connect.addProperty("jit", "off");
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
