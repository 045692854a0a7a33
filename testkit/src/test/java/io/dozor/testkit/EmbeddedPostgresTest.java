package io.dozor.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbeddedPostgresTest {
    private static Vertx vertx;

    @BeforeAll
    static void vertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void closeVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void startsQueriesAndStops() throws Exception {
        Path dir;
        int port;
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(null)) {
            dir = pg.baseDir();
            port = pg.port();
            assertThat(pg.url()).isEqualTo("postgresql://postgres@127.0.0.1:" + port + "/postgres");
            assertThat(dir).startsWith(Path.of("/tmp"));
            List<String> names = await(PgConnection.connect(vertx, pg.connectOptions())
                    .compose(conn -> conn.query("create table launches (id serial primary key, program text not null)")
                            .execute()
                            .compose(r -> conn.preparedQuery("insert into launches (program) values ($1), ($2)")
                                    .execute(Tuple.of("notepad.exe", "calc.exe")))
                            .compose(r -> conn.query("select program from launches order by id")
                                    .execute())
                            .map(EmbeddedPostgresTest::programs)
                            .eventually(conn::close)));
            assertThat(names).containsExactly("notepad.exe", "calc.exe");
        }
        assertThat(dir).doesNotExist();
        assertThat(answers(port)).isFalse();
    }

    @Test
    void reusesAnInitialisedBaseDirectory() throws Exception {
        Path base = Files.createTempDirectory(Path.of("/tmp"), "dozor-pg-reuse-test-");
        try {
            try (EmbeddedPostgres pg = EmbeddedPostgres.start(base)) {
                await(PgConnection.connect(vertx, pg.connectOptions())
                        .compose(conn -> conn.query("create table kept (v text); insert into kept values ('survives')")
                                .execute()
                                .eventually(conn::close)));
            }
            assertThat(base.resolve("data/PG_VERSION")).exists();
            try (EmbeddedPostgres pg = EmbeddedPostgres.start(base)) {
                List<String> values = await(PgConnection.connect(vertx, pg.connectOptions())
                        .compose(conn -> conn.query("select v from kept")
                                .execute()
                                .map(rows -> StreamSupport.stream(rows.spliterator(), false)
                                        .map(r -> r.getString(0))
                                        .toList())
                                .eventually(conn::close)));
                assertThat(values).containsExactly("survives");
            }
            assertThat(base).isDirectory(); // a given base directory is kept
        } finally {
            ProcessLogs.deleteRecursively(base);
        }
    }

    private static List<String> programs(RowSet<Row> rows) {
        return StreamSupport.stream(rows.spliterator(), false)
                .map(r -> r.getString("program"))
                .toList();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static boolean answers(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return s.isConnected();
        } catch (IOException e) {
            return false;
        }
    }
}
