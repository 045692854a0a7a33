package io.dozor.agent.windows;

import com.sun.jna.platform.win32.Crypt32Util;
import com.sun.jna.platform.win32.Win32Exception;
import com.sun.jna.platform.win32.WinCrypt;
import io.dozor.agent.CredentialProtector;
import java.io.IOException;

/**
 * DPAPI in machine scope ({@code CryptProtectData} with {@code CRYPTPROTECT_LOCAL_MACHINE}): the credential file
 * can be read back on this machine only, so a copy of {@code C:\ProgramData\Dozor} taken elsewhere (a backup, a
 * disk image) does not carry a usable credential. Machine scope, not user scope: the service runs as
 * LocalSystem, whose user key an administrator re-installing the service as another account would lose.
 */
public final class DpapiProtector implements CredentialProtector {
    private static final int FLAGS = WinCrypt.CRYPTPROTECT_LOCAL_MACHINE | WinCrypt.CRYPTPROTECT_UI_FORBIDDEN;
    private static final String DESCRIPTION = "Dozor agent credential";

    @Override
    public byte[] protect(byte[] plain) throws IOException {
        try {
            return Crypt32Util.cryptProtectData(plain, null, FLAGS, DESCRIPTION, null);
        } catch (Win32Exception e) {
            throw new IOException("CryptProtectData failed: " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] unprotect(byte[] stored) throws IOException {
        try {
            return Crypt32Util.cryptUnprotectData(stored, null, FLAGS, null);
        } catch (Win32Exception e) {
            throw new IOException("CryptUnprotectData failed (protected on another machine?): " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return "dpapi-machine";
    }
}
