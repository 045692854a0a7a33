package io.dozor.server;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.store.Migrations;
import io.dozor.server.store.Postgres;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;

/**
 * The database as a command-line tool uses it: a Vert.x instance and a pool of its own, the schema brought
 * up to date first. Its futures are awaited on the command's thread, never on an event loop.
 */
record CliDatabase(Vertx vertx, Pool pool) implements AutoCloseable {
  static CliDatabase open(ServerConfig config) {
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
