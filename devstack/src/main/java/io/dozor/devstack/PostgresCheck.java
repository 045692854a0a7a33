package io.dozor.devstack;

import io.dozor.server.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Whether a PostgreSQL URL given to the dev stack can be used, checked before anything starts or is written. */
final class PostgresCheck {
    private PostgresCheck() {}

    /** Empty when a connection to {@code url} opens; otherwise one line saying why not (the password masked). */
    static Optional<String> problem(String url) {
        PgConnectOptions options;
        try {
            options = PgConnectOptions.fromUri(url);
        } catch (RuntimeException e) {
            return Optional.of(
                    "not a postgresql:// URL (" + ServerConfig.Postgres.redact(url) + "): " + e.getMessage());
        }
        Vertx vertx = Vertx.vertx();
        try {
            PgConnection.connect(vertx, options)
                    .compose(conn -> conn.query("SELECT 1").execute().eventually(conn::close))
                    .await(10, TimeUnit.SECONDS);
            return Optional.empty();
        } catch (TimeoutException e) {
            return Optional.of("no answer from " + ServerConfig.Postgres.redact(url) + " within 10 s");
        } catch (Exception e) { // await() rethrows the failure as it is, checked ones too
            return Optional.of("cannot connect to " + ServerConfig.Postgres.redact(url) + ": " + e.getMessage());
        } finally {
            vertx.close().await();
        }
    }
}
