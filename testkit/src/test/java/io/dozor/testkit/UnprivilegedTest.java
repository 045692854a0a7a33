package io.dozor.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class UnprivilegedTest {

    @Test
    void wrapsOnlyWhenRoot() {
        List<String> cmd = List.of("id", "-un");
        String user = Unprivileged.ensureUser("dozor-es");
        List<String> wrapped = Unprivileged.wrap(cmd, user);
        if (Unprivileged.isRoot()) {
            assertThat(user).isEqualTo("dozor-es");
            assertThat(wrapped).startsWith("setpriv", "--reuid=dozor-es").endsWith("--", "id", "-un");
            Unprivileged.Result r = Unprivileged.run(wrapped, 30);
            assertThat(r.exitCode()).isZero();
            assertThat(r.output().strip()).isEqualTo("dozor-es");
        } else {
            assertThat(user).isEqualTo(System.getProperty("user.name"));
            assertThat(wrapped).isEqualTo(cmd);
        }
    }

    @Test
    void ensureUserIsIdempotentAndConcurrent() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Callable<String> task = () -> Unprivileged.ensureUser("dozor-es");
            List<Future<String>> results = pool.invokeAll(List.of(task, task, task, task));
            for (Future<String> f : results) {
                assertThat(f.get()).isEqualTo(Unprivileged.isRoot() ? "dozor-es" : System.getProperty("user.name"));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
