package io.dozor.agent;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;

/**
 * The enrolled agent's own credential in {@code <spool dir>/credential}: its agent id and its refresh
 * credential, protected by a {@link CredentialProtector}; before that, from just before the first enrolment
 * attempt until one succeeds, the enrollment key every attempt sends (so a retry after a lost answer, also after
 * a restart, is the same enrolment to the server). Each save writes a new file created private from the start
 * (0600 where the file system has POSIX permissions) and moves it over the old one, so a crash leaves the old or
 * the new content, never half of one. The short-lived access token stays in memory.
 */
final class CredentialStore {
    static final String FILE = "credential";

    /**
     * What is kept: an agent id and its refresh credential once enrolled; before, only the enrollment key of the
     * enrolment under way ({@link #pending}).
     */
    record Saved(String agentId, String refreshToken, String enrollmentKey) {
        Saved(String agentId, String refreshToken) {
            this(agentId, refreshToken, null);
        }

        static Saved pending(String enrollmentKey) {
            return new Saved(null, null, enrollmentKey);
        }

        boolean enrolled() {
            return agentId != null;
        }

        @Override
        public String toString() {
            return enrolled()
                    ? "Saved[agentId=" + agentId + ", refreshToken=***]"
                    : "Saved[enrollment under way, enrollmentKey=***]";
        }
    }

    private final Path file;
    private final CredentialProtector protector;

    CredentialStore(Path dir, CredentialProtector protector) {
        this.file = dir.resolve(FILE);
        this.protector = protector;
    }

    Path file() {
        return file;
    }

    /**
     * The saved credential, or the key of the enrolment under way, or null when there is neither (first start, or
     * the state was lost).
     */
    Saved load() throws IOException {
        if (!Files.exists(file)) {
            return null;
        }
        byte[] plain = protector.unprotect(Files.readAllBytes(file));
        Properties p = new Properties();
        p.load(new StringReader(new String(plain, StandardCharsets.UTF_8)));
        String agentId = p.getProperty("agent_id");
        String refresh = p.getProperty("refresh_token");
        String key = p.getProperty("enrollment_key");
        if (agentId == null && refresh == null && key != null && !key.isBlank()) {
            return Saved.pending(key);
        }
        if (agentId == null || refresh == null || agentId.isBlank() || refresh.isBlank()) {
            throw new IOException(file + ": not a credential file");
        }
        return new Saved(agentId, refresh);
    }

    void save(Saved saved) throws IOException {
        Properties p = new Properties();
        if (saved.enrolled()) {
            p.setProperty("agent_id", saved.agentId());
            p.setProperty("refresh_token", saved.refreshToken());
        } else {
            p.setProperty("enrollment_key", saved.enrollmentKey());
        }
        StringWriter text = new StringWriter();
        p.store(text, null);
        byte[] bytes = protector.protect(text.toString().getBytes(StandardCharsets.UTF_8));
        Path tmp = file.resolveSibling(FILE + ".new");
        Files.deleteIfExists(tmp);
        createPrivate(tmp);
        Files.write(tmp, bytes);
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** An empty file only the owner can read and write, from its creation on (no window with wider rights). */
    private static void createPrivate(Path path) throws IOException {
        try {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) { // Windows: the directory's ACL applies
            Files.createFile(path);
        } catch (FileAlreadyExistsException e) {
            throw new IOException(path + " appeared while writing the credential", e);
        }
    }
}
