package io.dozor.server;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Prometheus' own linter and rule tester ({@code promtool}, Debian package {@code prometheus}, installed by
 * {@code .ci/run}). Missing, the tests that need it fail; {@code DOZOR_TEST_NO_PROMTOOL=1} skips them instead,
 * for a machine where it cannot be installed (CI never sets it).
 */
final class Promtool {
    static final String SKIP_ENV = "DOZOR_TEST_NO_PROMTOOL";

    record Result(int exitCode, String output) {}

    private Promtool() {}

    static Path find() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, "promtool");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        String missing = "promtool not found on the PATH: install Debian's prometheus package (apt-get install -y"
                + " prometheus; .ci/run does)";
        if ("1".equals(System.getenv(SKIP_ENV))) {
            Assumptions.abort(missing + "; skipped because " + SKIP_ENV + "=1");
        }
        return Assertions.fail(missing + ", or set " + SKIP_ENV + "=1 to skip the promtool checks on this machine");
    }

    /** Runs promtool with {@code args} in {@code dir}, {@code stdin} as its input; stdout and stderr together. */
    static Result run(Path dir, String stdin, String... args) {
        List<String> command = new ArrayList<>(List.of(find().toString()));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
            try (var in = process.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return Assertions.fail("promtool " + args[0] + " did not finish within 120 s");
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            return Assertions.fail("cannot run promtool: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
