package io.dozor.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A migration's schema version is its place in {@link Sql#MIGRATIONS}: the list must name every script of
 * {@code db/} once, in the order of the number in its name, with no gap, or a database migrated by one build
 * would count a different script as applied in the next.
 */
class MigrationListTest {
    @Test
    void theListNamesEveryScriptInTheOrderOfItsNumber() throws Exception {
        for (int i = 0; i < Sql.MIGRATIONS.length; i++) {
            assertThat(Sql.MIGRATIONS[i]).as("schema version %d", i + 1).startsWith("db/V" + (i + 1) + "__");
        }
        try (Stream<Path> scripts = Files.list(Path.of("src/main/resources/db"))) {
            assertThat(scripts.map(p -> "db/" + p.getFileName()))
                    .containsExactlyInAnyOrderElementsOf(Arrays.asList(Sql.MIGRATIONS));
        }
    }
}
