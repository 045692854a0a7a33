package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CredentialStoreTest {
    @TempDir
    Path dir;

    /** Stands in for DPAPI: reversible, and what it writes does not contain the secret as text. */
    static final class FakeProtector implements CredentialProtector {
        int protects;

        @Override
        public byte[] protect(byte[] plain) {
            protects++;
            byte[] out = new byte[plain.length + 4];
            System.arraycopy("FAKE".getBytes(StandardCharsets.US_ASCII), 0, out, 0, 4);
            for (int i = 0; i < plain.length; i++) {
                out[i + 4] = (byte) (plain[i] ^ 0x5A);
            }
            return out;
        }

        @Override
        public byte[] unprotect(byte[] stored) throws IOException {
            if (stored.length < 4 || !new String(stored, 0, 4, StandardCharsets.US_ASCII).equals("FAKE")) {
                throw new IOException("not protected by this machine");
            }
            byte[] out = new byte[stored.length - 4];
            for (int i = 0; i < out.length; i++) {
                out[i] = (byte) (stored[i + 4] ^ 0x5A);
            }
            return out;
        }

        @Override
        public String name() {
            return "fake";
        }
    }

    @Test
    void nothingSavedIsNull() throws IOException {
        assertThat(new CredentialStore(dir, CredentialProtector.FILE_PERMISSIONS).load())
                .isNull();
    }

    @Test
    void whatIsSavedGoesThroughTheProtectorAndComesBack() throws IOException {
        FakeProtector protector = new FakeProtector();
        CredentialStore store = new CredentialStore(dir, protector);
        store.save(new CredentialStore.Saved("PC-01", "dzr_secret-refresh"));

        assertThat(protector.protects).isEqualTo(1);
        assertThat(Files.readString(store.file(), StandardCharsets.ISO_8859_1))
                .startsWith("FAKE")
                .doesNotContain("dzr_secret-refresh");
        assertThat(store.load()).isEqualTo(new CredentialStore.Saved("PC-01", "dzr_secret-refresh"));
        store.save(new CredentialStore.Saved("PC-01", "dzr_next"));
        assertThat(store.load().refreshToken()).isEqualTo("dzr_next");
        assertThat(Files.list(dir)).containsExactly(store.file()); // no temporary file left behind
        assertThat(store.load().toString()).doesNotContain("dzr_next");
    }

    @Test
    void theKeyOfAnEnrolmentUnderWayIsKeptUntilTheCredentialReplacesIt() throws IOException {
        FakeProtector protector = new FakeProtector();
        CredentialStore store = new CredentialStore(dir, protector);
        store.save(CredentialStore.Saved.pending("k3y-of-the-enrolment_under-way"));
        assertThat(Files.readString(store.file(), StandardCharsets.ISO_8859_1))
                .doesNotContain("k3y-of-the-enrolment_under-way");
        CredentialStore.Saved pending = new CredentialStore(dir, protector).load();
        assertThat(pending.enrolled()).isFalse();
        assertThat(pending.enrollmentKey()).isEqualTo("k3y-of-the-enrolment_under-way");
        assertThat(pending.toString()).doesNotContain("k3y");

        store.save(new CredentialStore.Saved("PC-01", "dzr_r"));
        assertThat(store.load()).isEqualTo(new CredentialStore.Saved("PC-01", "dzr_r"));
        assertThat(store.load().enrollmentKey()).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "agent_id=PC-01\n",
                "refresh_token=dzr_r\n",
                "enrollment_key=\n",
                "enrollment_key=k\nagent_id=PC-01\n",
                "agent_id=PC-01\nrefresh_token= \n"
            })
    void halfACredentialIsNotACredentialFile(String content) throws IOException {
        Files.writeString(dir.resolve(CredentialStore.FILE), content);
        assertThatThrownBy(() -> new CredentialStore(dir, CredentialProtector.FILE_PERMISSIONS).load())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("not a credential file");
    }

    @Test
    void aFileProtectedElsewhereOrDamagedIsAnError() throws IOException {
        Files.writeString(dir.resolve(CredentialStore.FILE), "copied from another PC");
        assertThatThrownBy(() -> new CredentialStore(dir, new FakeProtector()).load())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("not protected by this machine");
        assertThatThrownBy(() -> new CredentialStore(dir, CredentialProtector.FILE_PERMISSIONS).load())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("not a credential file");
    }

    @Test
    @DisabledOnOs(OS.WINDOWS)
    void theFileIsReadableByItsOwnerOnly() throws IOException {
        CredentialStore store = new CredentialStore(dir, CredentialProtector.FILE_PERMISSIONS);
        store.save(new CredentialStore.Saved("PC-01", "dzr_x"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file())))
                .isEqualTo("rw-------");
    }
}
