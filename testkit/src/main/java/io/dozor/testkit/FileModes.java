package io.dozor.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** POSIX permissions of files, as {@code ls -l} writes them ({@code rw-------}): what tests of private files read. */
public final class FileModes {
    private FileModes() {}

    /** Whether the file system of {@code path} has POSIX permissions (not on Windows). */
    public static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** The permissions of {@code path}, e.g. {@code rwx------}. */
    public static String mode(Path path) {
        try {
            return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
