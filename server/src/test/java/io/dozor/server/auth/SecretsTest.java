package io.dozor.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SecretsTest {
    private static final Path REPO = Path.of("..");
    /** {@code ${DOZOR_AUTH_TOKEN_SECRET:-X}}, {@code token_secret: X} or {@code DOZOR_AUTH_TOKEN_SECRET=X}. */
    private static final Pattern EXAMPLE = Pattern.compile(
            "DOZOR_AUTH_TOKEN_SECRET:-([^}]+)}"
                    + "|token_secret:\\s*[\"']?([^\"'#\\n]+?)[\"']?\\s*(?:#.*)?$"
                    + "|DOZOR_AUTH_TOKEN_SECRET[:=]\\s*[\"']?([^\"'$\\n-][^\"'$\\n]*?)[\"']?\\s*$",
            Pattern.MULTILINE);

    /** Every example secret of the repository's settings, compose file and documentation. */
    static List<String> shippedExamples() throws IOException {
        List<Path> files = new ArrayList<>(List.of(REPO.resolve("docker-compose.elk.yml"), REPO.resolve("README.md")));
        for (String folder : List.of("etc", "docs")) {
            try (Stream<Path> list = Files.list(REPO.resolve(folder))) {
                list.filter(Files::isRegularFile).forEach(files::add);
            }
        }
        List<String> found = new ArrayList<>();
        for (Path file : files) {
            Matcher m = EXAMPLE.matcher(Files.readString(file));
            while (m.find()) {
                String value = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
                if (value != null && value.strip().length() >= Secrets.MIN_LENGTH) {
                    found.add(value.strip());
                }
            }
        }
        return found;
    }

    @Test
    void everyExampleSecretShippedInTheRepositoryIsRefused() throws IOException {
        List<String> examples = shippedExamples();
        assertThat(examples).as("the scan finds the examples").contains("change-me-to-32-or-more-random-characters");
        for (String example : examples) {
            for (String key : example.split(",")) {
                assertThat(Secrets.problem(key.strip())).as(key).isPresent();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", // one character
                "abcabcabcabcabcabcabcabcabcabcabcabc", // a repeated block
                "password1234password1234password1234", // a repeated block
                "0123456789abcdef0123456789abcdef", // a run and a repeated block
                "my-secret-key-abcdefghij-for-dozor!", // a run of 8
                "xyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxy", // few distinct characters
                "CHANGE-ME-TO-32-OR-MORE-RANDOM-CHARACTERS", // the shipped example, shouted
            })
    void predictableSecretsAreRefused(String secret) {
        assertThat(Secrets.problem(secret)).isPresent();
    }

    @Test
    void generatedSecretsPassAndDiffer() {
        for (int i = 0; i < 1000; i++) {
            String secret = Secrets.generate();
            assertThat(Secrets.problem(secret)).as(secret).isEmpty();
        }
        assertThat(Secrets.generate()).isNotEqualTo(Secrets.generate());
        assertThat(Secrets.keyId("k".repeat(40))).matches("[0-9a-f]{8}").isEqualTo(Secrets.keyId("k".repeat(40)));
    }
}
