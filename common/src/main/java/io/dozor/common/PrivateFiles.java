package io.dozor.common;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Files and directories only the program's user can read: the server's logs and the configuration with secrets
 * the dev stack writes; the agent's spool, logs and whatever it keeps about itself. Where the file system has
 * POSIX permissions they are created {@code 0600} (files) and {@code 0700} (directories) by the call that creates
 * them, so no other user can open them at any moment (the umask can only narrow that further); elsewhere
 * (Windows) they inherit their folder's ACL, which the agent's {@code install-service.ps1} limits to SYSTEM and
 * Administrators. What already exists keeps its permissions (a log directory of {@code /var/log} must not become
 * private to the program).
 */
public final class PrivateFiles {
    private static final FileAttribute<?> FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    private static final FileAttribute<?> DIRECTORY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private PrivateFiles() {}

    /** Creates {@code dir} and its missing parents, each new one private; an existing one is left as it is. */
    public static Path createDirectories(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath();
        if (Files.isDirectory(absolute)) {
            return dir;
        }
        Path parent = absolute.getParent();
        if (parent != null) {
            createDirectories(parent);
        }
        try {
            if (posix(absolute)) {
                Files.createDirectory(absolute, DIRECTORY);
            } else {
                Files.createDirectory(absolute);
            }
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(absolute)) {
                throw e;
            }
        }
        return dir;
    }

    /** Creates {@code file} empty and private unless it exists; its directory must exist. */
    public static Path createFileIfMissing(Path file) throws IOException {
        try {
            if (posix(file)) {
                Files.createFile(file, FILE);
            } else {
                Files.createFile(file);
            }
        } catch (FileAlreadyExistsException e) {
            // kept as it is, with its content and permissions
        }
        return file;
    }

    /**
     * Writes {@code text} (UTF-8) to {@code file}, creating its directory if needed: into a new private file beside
     * it, then moved over it, so the file is private even if an older one with wider permissions was there, and a
     * reader never sees half of it.
     */
    public static Path write(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        createDirectories(dir);
        Path temp = posix(file)
                ? Files.createTempFile(dir, "." + file.getFileName(), ".tmp", FILE)
                : Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(temp, text, StandardCharsets.UTF_8);
            return Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
