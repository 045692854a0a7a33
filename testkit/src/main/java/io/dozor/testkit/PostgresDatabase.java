package io.dozor.testkit;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A fresh database on a real PostgreSQL (by default the one on 127.0.0.1:5432; override with
 * {@code DOZOR_TEST_PG_URL}, an admin URL), dropped again on close. Blocking helpers for assertions.
 */
public final class PostgresDatabase implements AutoCloseable {
    public static final String ADMIN_URL_ENV = "DOZOR_TEST_PG_URL";
    static final String DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

    private final Vertx vertx;
    private final Pool admin;
    private final Pool pool;
    private final String name;
    private final String url;

    private PostgresDatabase(Vertx vertx, Pool admin, String name, String url) {
        this.vertx = vertx;
        this.admin = admin;
        this.name = name;
        this.url = url;
        this.pool = pool(vertx, url);
    }

    public static PostgresDatabase create() {
        return create(System.getenv().getOrDefault(ADMIN_URL_ENV, DEFAULT_ADMIN_URL));
    }

    public static PostgresDatabase create(String adminUrl) {
        Vertx vertx = Vertx.vertx();
        Pool admin = pool(vertx, adminUrl);
        String name =
                "dozor_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try {
            admin.query("CREATE DATABASE " + name).execute().await();
        } catch (RuntimeException e) {
            admin.close().await();
            vertx.close().await();
            throw new IllegalStateException(
                    "cannot create a test database through " + adminUrl + " (is PostgreSQL running? set "
                            + ADMIN_URL_ENV + "): " + e.getMessage(),
                    e);
        }
        PgConnectOptions options = PgConnectOptions.fromUri(adminUrl).setDatabase(name);
        String url = "postgresql://" + options.getUser()
                + (options.getPassword() == null || options.getPassword().isEmpty() ? "" : ":" + options.getPassword())
                + "@" + options.getHost() + ":" + options.getPort() + "/" + name;
        return new PostgresDatabase(vertx, admin, name, url);
    }

    private static Pool pool(Vertx vertx, String url) {
        return PgBuilder.pool()
                .with(new PoolOptions().setMaxSize(2))
                .connectingTo(url)
                .using(vertx)
                .build();
    }

    public String url() {
        return url;
    }

    public String name() {
        return name;
    }

    /** Rows as column-name maps, in column order. */
    public List<Map<String, Object>> query(String sql, Object... params) {
        var rows = pool.preparedQuery(sql).execute(Tuple.from(params)).await();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Row row : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (int i = 0; i < row.size(); i++) {
                m.put(row.getColumnName(i), row.getValue(i));
            }
            out.add(m);
        }
        return out;
    }

    public long count(String table) {
        return ((Number) query("SELECT count(*) AS n FROM " + table).get(0).get("n")).longValue();
    }

    public void execute(String sql) {
        pool.query(sql).execute().await();
    }

    /**
     * Runs {@code statements} in a transaction that stays open (holding, e.g., {@code LOCK TABLE events IN
     * EXCLUSIVE MODE}) until the answer is closed, which rolls it back: what the server does while the database
     * makes it wait. Takes one of the two connections of this object's pool meanwhile.
     */
    public AutoCloseable holdTransaction(String... statements) {
        SqlConnection conn = pool.getConnection().await();
        try {
            Transaction tx = conn.begin().await();
            for (String statement : statements) {
                conn.query(statement).execute().await();
            }
            return () -> {
                try {
                    tx.rollback().await();
                } finally {
                    conn.close().await();
                }
            };
        } catch (RuntimeException e) {
            conn.close().await();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            pool.close().await();
            admin.query("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
                    .execute()
                    .await();
            admin.close().await();
        } finally {
            vertx.close().await();
        }
    }
}
