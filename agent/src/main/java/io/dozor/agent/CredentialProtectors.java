package io.dozor.agent;

import io.dozor.agent.windows.DpapiProtector;

/** Picks how the credential file is protected on this system: DPAPI on Windows, file permissions elsewhere. */
final class CredentialProtectors {
    private CredentialProtectors() {}

    static CredentialProtector forThisSystem() {
        return ProcessSources.isWindows(System.getProperty("os.name", ""))
                ? new DpapiProtector()
                : CredentialProtector.FILE_PERMISSIONS;
    }
}
