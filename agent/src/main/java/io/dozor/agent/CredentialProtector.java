package io.dozor.agent;

import java.io.IOException;

/**
 * How the agent's credential file is protected at rest: on Windows by DPAPI in machine scope
 * ({@code windows.DpapiProtector}: only this machine can read it back), elsewhere the bytes are kept as they
 * are and the file is readable by the agent's user only ({@link CredentialStore} creates it 0600).
 */
public interface CredentialProtector {
    /** What is written to the file. */
    byte[] protect(byte[] plain) throws IOException;

    /** The reverse of {@link #protect}; an IOException when the bytes were not protected here. */
    byte[] unprotect(byte[] stored) throws IOException;

    /** For the log: {@code dpapi-machine} or {@code file-mode-0600}. */
    String name();

    /** Keeps the bytes as they are; the file's permissions protect them. */
    CredentialProtector FILE_PERMISSIONS = new CredentialProtector() {
        @Override
        public byte[] protect(byte[] plain) {
            return plain.clone();
        }

        @Override
        public byte[] unprotect(byte[] stored) {
            return stored.clone();
        }

        @Override
        public String name() {
            return "file-mode-0600";
        }
    };
}
