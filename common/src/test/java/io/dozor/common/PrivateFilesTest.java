package io.dozor.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verifies that the directories and files created here are private to their user, that rewriting a file that was
 * readable by others leaves it private, and that what already exists keeps its permissions. POSIX file systems
 * only: on Windows the folder's ACL is inherited.
 */
class PrivateFilesTest {
    @TempDir
    Path dir;

    @BeforeEach
    void onPosix() {
        assumeTrue(
                dir.getFileSystem().supportedFileAttributeViews().contains("posix"),
                "the file system has POSIX permissions");
    }

    @Test
    void newDirectoriesAreTheOwnersOnlyAndExistingOnesKeepTheirMode() throws IOException {
        Path shared = Files.createDirectory(
                dir.resolve("shared"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));

        PrivateFiles.createDirectories(shared); // exists: left as it is
        PrivateFiles.createDirectories(shared.resolve("a/b"));
        PrivateFiles.createDirectories(shared.resolve("a/b")); // again: nothing to do

        assertThat(mode(shared)).isEqualTo("rwxr-xr-x");
        assertThat(mode(shared.resolve("a"))).isEqualTo("rwx------");
        assertThat(mode(shared.resolve("a/b"))).isEqualTo("rwx------");
    }

    @Test
    void aNewFileIsTheOwnersOnlyAndAnExistingOneIsLeftAsItIs() throws IOException {
        Path existing = dir.resolve("existing");
        Files.writeString(existing, "kept");
        Files.setPosixFilePermissions(existing, PosixFilePermissions.fromString("rw-r--r--"));

        PrivateFiles.createFileIfMissing(existing);
        Path fresh = PrivateFiles.createFileIfMissing(dir.resolve("fresh"));

        assertThat(Files.readString(existing)).isEqualTo("kept");
        assertThat(mode(existing)).isEqualTo("rw-r--r--");
        assertThat(mode(fresh)).isEqualTo("rw-------");
    }

    @Test
    void aWrittenFileIsTheOwnersOnlyEvenWhereAReadableOneWas() throws IOException {
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, "auth:\n  token_secret: old\n");
        Files.setPosixFilePermissions(yaml, PosixFilePermissions.fromString("rw-r--r--"));

        PrivateFiles.write(yaml, "auth:\n  token_secret: new\n");

        assertThat(Files.readString(yaml)).isEqualTo("auth:\n  token_secret: new\n");
        assertThat(mode(yaml)).isEqualTo("rw-------");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(yaml); // no temporary file left behind
        }
    }

    @Test
    void aFileWrittenInANewDirectoryHasBothPrivate() throws IOException {
        Path file = PrivateFiles.write(dir.resolve("state/a/token-secret"), "s");

        assertThat(mode(file)).isEqualTo("rw-------");
        assertThat(mode(file.getParent())).isEqualTo("rwx------");
        assertThat(mode(file.getParent().getParent())).isEqualTo("rwx------");
    }

    static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }
}
