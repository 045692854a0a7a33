package io.dozor.server.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.rules.Filters;
import io.dozor.testkit.Wait;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verifies that the filters follow the settings file without a restart, and that a bad file changes nothing. */
class FiltersWatcherTest {
    @TempDir
    Path dir;

    @Test
    void filtersAreReloadedWhenTheFileChangesAndABadReloadKeepsThePreviousOnes() throws Exception {
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, NotifyCoreTest.GUESTS_AND_KIOSKS);
        var watcher = new FiltersWatcher(FiltersWatcher.fromYaml(Files.readAllBytes(yaml)));
        var items = NotifyCoreTest.batch(
                NotifyCoreTest.l("10:01:00", "Guest1", "chrome.exe"),
                NotifyCoreTest.l("10:01:01", "SYSTEM", "explorer.exe"),
                NotifyCoreTest.l("10:01:02", "ivanov", "chrome.exe"));
        assertThat(passing(watcher.get(), items)).containsExactly("ivanov");
        Vertx vertx = Vertx.vertx();
        try {
            watcher.watch(vertx, yaml);
            Thread.sleep(2 * FiltersWatcher.CHECK.toMillis()); // the file as it was is seen first
            Filters first = watcher.get();
            Files.writeString(yaml, """
          telegram:
            filters:
              include:
                process: [explorer.exe]
              exclude_system: false
          """);
            Wait.until("the filters reloaded", Duration.ofSeconds(10), () -> watcher.get() != first);
            Filters second = watcher.get();
            assertThat(passing(second, items)).containsExactly("SYSTEM");

            Files.writeString(yaml, """
          telegram:
            filters:
              include:
                process: ["re:(unclosed"]
          """);
            Thread.sleep(3 * FiltersWatcher.CHECK.toMillis());
            assertThat(watcher.get())
                    .as("a bad reload keeps the previous filters")
                    .isSameAs(second);
        } finally {
            vertx.close().await();
        }
    }

    static List<String> passing(Filters filters, List<io.dozor.server.outbox.OutboxItem> items) {
        return items.stream()
                .filter(i -> filters.passes(i.event()))
                .map(i -> i.event().launch().username())
                .toList();
    }
}
