package io.dozor.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ElasticsearchTest {

    @Test
    void startsIndexesCountsAndCleansUp() throws IOException {
        Path dir;
        int port;
        try (Elasticsearch es = Elasticsearch.start()) {
            dir = es.directory();
            port = es.port();
            assertThat(es.url()).isEqualTo("http://127.0.0.1:" + port);
            assertThat(dir).startsWith(Path.of("/tmp")).isDirectory();

            assertThat(es.get("/_cluster/health")).contains("\"number_of_nodes\":1");
            assertThat(es.count("events-*")).isZero(); // no such index yet
            es.put("/events-test", "{\"settings\":{\"number_of_replicas\":0}}");
            es.post("/events-test/_doc", "{\"program\":\"notepad.exe\",\"user\":\"ivan\"}");
            assertThat(es.count("events-test")).isEqualTo(1);
            assertThat(es.count("events-*")).isEqualTo(1);
            assertThat(es.get("/events-test/_search?q=program:notepad.exe")).contains("ivan");

            assertThatThrownBy(() -> es.get("/no-such-index/_doc/1"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("404");
            es.delete("/events-*"); // action.destructive_requires_name=false allows wildcards
            assertThat(es.count("events-*")).isZero();

            if (Unprivileged.isRoot()) {
                assertThat(Files.getOwner(dir).getName()).isEqualTo(Elasticsearch.USER);
            }

            es.stop(); // graceful: the launcher forwards SIGTERM to the server, which logs its shutdown
            assertThat(es.isRunning()).isFalse();
            assertThat(answers(port))
                    .as("port %s still answers after stop", port)
                    .isFalse();
            assertThat(dir).isDirectory(); // stop keeps the directory
            assertThat(ProcessLogs.tail(dir.resolve("elasticsearch.out"), 20)).contains("closed");
        }
        assertThat(dir).doesNotExist(); // close deletes it
        assertThat(answers(port)).as("port %s still answers after close", port).isFalse();
    }

    @Test
    void failedStartReportsTheLogTailAndCleansUp() throws IOException {
        Elasticsearch.Options bad = Elasticsearch.Options.defaults().withSetting("dozor.no.such.setting", "x");
        assertThatThrownBy(() -> Elasticsearch.start(bad))
                .isInstanceOf(Elasticsearch.StartupException.class)
                .hasMessageContaining("exited with code")
                .hasMessageContaining("dozor.no.such.setting"); // from the tail of elasticsearch.out
    }

    @Test
    void externalHandleOnlyTalksHttp() {
        Elasticsearch external = Elasticsearch.external("http://127.0.0.1:9/");
        assertThat(external.url()).isEqualTo("http://127.0.0.1:9");
        assertThat(external.isExternal()).isTrue();
        external.stop(); // no-op
        external.close(); // no-op
    }

    @Test
    void findsAJdk21() {
        Path javaHome = Elasticsearch.findJavaHome();
        assertThat(javaHome.resolve("bin/java")).isExecutable();
    }

    private static boolean answers(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return s.isConnected();
        } catch (IOException e) {
            return false;
        }
    }
}
