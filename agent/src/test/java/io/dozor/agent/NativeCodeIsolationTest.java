package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** JNA stays in io.dozor.agent.windows, so everything else is tested and runs anywhere. */
class NativeCodeIsolationTest {

    private static final Path SOURCES = Path.of("src/main/java");
    private static final Path WINDOWS = SOURCES.resolve("io/dozor/agent/windows");

    @Test
    void noSourceOutsideTheWindowsPackageUsesJna() throws IOException {
        List<Path> offenders;
        try (Stream<Path> files = Files.walk(SOURCES)) {
            offenders = files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> !f.startsWith(WINDOWS))
                    .filter(NativeCodeIsolationTest::mentionsJna)
                    .toList();
        }
        assertThat(offenders).isEmpty();
    }

    @Test
    void theCheckFindsJnaWhereItIs() throws IOException {
        try (Stream<Path> files = Files.list(WINDOWS)) {
            assertThat(files.filter(NativeCodeIsolationTest::mentionsJna)).isNotEmpty();
        }
    }

    private static boolean mentionsJna(Path file) {
        try {
            return Files.readString(file).contains("com.sun.jna");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
