package io.dozor.server.store;

import io.dozor.server.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;

/**
 * The database as a command-line tool uses it: a Vert.x instance and a pool of its own, the schema brought
 * up to date first. Its futures are awaited on the command's thread, never on an event loop.
 */
public record CliDatabase(Vertx vertx, Pool pool) implements AutoCloseable {
    public static CliDatabase open(ServerConfig config) {
        Vertx vertx = Vertx.vertx();
        Pool pool = Postgres.pool(vertx, config.postgres());
        CliDatabase db = new CliDatabase(vertx, pool);
        try {
            Migrations.migrate(vertx, pool).await();
            return db;
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            pool.close().await();
        } finally {
            vertx.close().await();
        }
    }
}
