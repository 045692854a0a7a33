package io.dozor.server.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the schema to the newest version at start. An advisory lock lets several servers start
 * together; each migration runs in its own transaction with its version row.
 */
public final class Migrations {
    private static final Logger log = LoggerFactory.getLogger(Migrations.class);

    private Migrations() {}

    public static Future<Integer> migrate(Vertx vertx, Pool pool) {
        return pool.withConnection(conn -> conn.preparedQuery(Sql.MIGRATION_LOCK_TAKE)
                .execute(Tuple.of(Sql.MIGRATION_LOCK))
                .compose(locked -> applyPending(vertx, conn))
                .eventually(
                        () -> conn.preparedQuery(Sql.MIGRATION_LOCK_RELEASE).execute(Tuple.of(Sql.MIGRATION_LOCK))));
    }

    private static Future<Integer> applyPending(Vertx vertx, SqlConnection conn) {
        return conn.query(Sql.SCHEMA_VERSION_TABLE)
                .execute()
                .compose(ignored -> conn.query(Sql.SCHEMA_VERSION_CURRENT).execute())
                .map(rows -> rows.iterator().next().getInteger("version"))
                .compose(current -> applyFrom(vertx, conn, current));
    }

    private static Future<Integer> applyFrom(Vertx vertx, SqlConnection conn, int current) {
        if (current >= Sql.MIGRATIONS.length) {
            return Future.succeededFuture(current);
        }
        int version = current + 1;
        String resource = Sql.MIGRATIONS[current];
        return vertx.executeBlocking(() -> readResource(resource))
                .compose(script -> conn.begin()
                        .compose(tx -> conn.query(script)
                                .execute()
                                .compose(done -> conn.preparedQuery(Sql.SCHEMA_VERSION_RECORD)
                                        .execute(Tuple.of(version)))
                                .compose(done -> tx.commit())
                                .recover(err -> tx.rollback()
                                        .transform(ignored -> Future.failedFuture(new IllegalStateException(
                                                "migration " + resource + " failed: " + err.getMessage(), err))))))
                .onSuccess(ignored -> log.info("schema migrated [version={}, script={}]", version, resource))
                .compose(ignored -> applyFrom(vertx, conn, version));
    }

    private static String readResource(String name) throws java.io.IOException {
        try (var in = Migrations.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new java.io.FileNotFoundException("classpath:" + name);
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
