package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verifies that the files the server (and the dev stack, through it) writes with secrets are created private, that
 * rewriting one that was readable by others leaves it private, and that what exists is not narrowed.
 */
class PrivateFilesTest {
  @TempDir
  Path dir;

  @BeforeEach
  void onPosix() {
    Assumptions.assumeTrue(posix(dir), "the file system has POSIX permissions");
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

  @Test
  void anExistingDirectoryOrFileKeepsItsPermissions() throws IOException {
    Path shared = Files.createDirectory(dir.resolve("shared"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Path file = Files.writeString(shared.resolve("kept"), "kept");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

    PrivateFiles.createDirectories(shared);
    PrivateFiles.createFileIfMissing(file);

    assertThat(mode(shared)).isEqualTo("rwxr-xr-x");
    assertThat(mode(file)).isEqualTo("rw-r--r--");
    assertThat(Files.readString(file)).isEqualTo("kept");
    assertThat(mode(PrivateFiles.createFileIfMissing(shared.resolve("new")))).isEqualTo("rw-------");
  }

  static boolean posix(Path dir) {
    return dir.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  static String mode(Path path) {
    try {
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
