package io.dozor.server.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.dozor.server.rules.Filters;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads {@code telegram.filters} from the YAML file when its content changes (checked on a timer) and
 * swaps in the new filters. A file that no longer parses, or bad filters, keep the old ones and log one
 * error per bad version of the file.
 */
final class FiltersWatcher implements Supplier<Filters> {
    private static final Logger log = LoggerFactory.getLogger(FiltersWatcher.class);
    static final Duration CHECK = Duration.ofSeconds(1);

    private final AtomicReference<Filters> current;
    private Buffer lastSeen;

    FiltersWatcher(Filters initial) {
        current = new AtomicReference<>(initial);
    }

    @Override
    public Filters get() {
        return current.get();
    }

    void watch(Vertx vertx, Path file) {
        vertx.fileSystem().readFile(file.toString()).onSuccess(content -> lastSeen = content);
        vertx.setPeriodic(
                CHECK.toMillis(),
                id -> vertx.fileSystem().readFile(file.toString()).onSuccess(content -> {
                    if (lastSeen != null && !content.equals(lastSeen)) {
                        reload(file, content);
                    }
                    lastSeen = content;
                }));
    }

    private void reload(Path file, Buffer content) {
        try {
            current.set(fromYaml(content.getBytes()));
            log.info("notification filters reloaded [file={}]", file);
        } catch (IllegalArgumentException e) {
            log.error(
                    "notification filters not reloaded, keeping the previous ones [file={}, error={}]",
                    file,
                    e.getMessage());
        }
    }

    /** The {@code telegram.filters} of a whole settings file. */
    static Filters fromYaml(byte[] yaml) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (IOException e) {
            String message = String.valueOf(e.getMessage());
            throw new IllegalArgumentException(
                    "unreadable YAML: " + message.lines().findFirst().orElse(message));
        }
        return Filters.parse(root == null ? null : root.path("telegram").path("filters"));
    }
}
