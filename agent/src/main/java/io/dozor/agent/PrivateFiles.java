package io.dozor.agent;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Files and directories only the agent's user can read: the spool, the logs, whatever the agent keeps about
 * itself. Where the file system has POSIX permissions they are created {@code 0600} (files) and {@code 0700}
 * (directories) in the same system call that creates them, so there is no moment when another user could open
 * them (the process's umask can only narrow that further). Elsewhere (Windows) they inherit the ACL of the
 * folder they are made in, which {@code install-service.ps1} limits to SYSTEM and Administrators.
 *
 * <p>Only what this class creates is made private: a directory or file that already exists keeps its
 * permissions (an administrator's {@code [log] dir = /var/log} must not become private to the agent).
 */
public final class PrivateFiles {

    private static final FileAttribute<?> FILE = PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rw-------"));
    private static final FileAttribute<?> DIRECTORY = PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwx------"));

    private PrivateFiles() {
    }

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
            if (posix(parent)) {
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
            if (posix(file.toAbsolutePath().getParent())) {
                Files.createFile(file, FILE);
            } else {
                Files.createFile(file);
            }
        } catch (FileAlreadyExistsException e) {
            // kept as it is, with its content and permissions
        }
        return file;
    }

    private static boolean posix(Path parent) {
        return parent != null && parent.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
