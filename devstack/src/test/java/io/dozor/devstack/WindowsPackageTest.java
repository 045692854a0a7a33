package io.dozor.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/** Verifies that the build's Windows package holds what README's deployment section uses. */
class WindowsPackageTest {

    @Test
    void theZipHoldsTheJarTheSettingsTheLauncherAndTheServiceScripts() throws IOException {
        Path zip = RunningStack.jar("dozor.agent.zip");
        try (ZipFile z = new ZipFile(zip.toFile())) {
            assertThat(z.stream().map(ZipEntry::getName))
                    .contains(
                            "dozor-agent/dozor-agent.jar",
                            "dozor-agent/agent.ini",
                            "dozor-agent/dozor-agent.cmd",
                            "dozor-agent/install-service.ps1",
                            "dozor-agent/uninstall-service.ps1",
                            "dozor-agent/README.txt",
                            "dozor-agent/make-runtime.cmd");
            assertThat(z.getEntry("dozor-agent/dozor-agent.jar").getSize()).isGreaterThan(1_000_000);

            String launcher = text(z, "dozor-agent/dozor-agent.cmd");
            assertThat(launcher)
                    .contains("\r\n")
                    .contains(
                            "-XX:+UseSerialGC",
                            "-Xmx48m",
                            "-XX:TieredStopAtLevel=1",
                            "install-service",
                            "-Ddozor.jvm.flags=");
            assertThat(text(z, "dozor-agent/agent.ini")).contains("[server]", "[monitor]", "[spool]", "[log]");
            String install = text(z, "dozor-agent/install-service.ps1");
            assertThat(install).contains("install-service", "Start-Service DozorAgent");
            // not run here (no Windows): the data folder and the INI are locked to SYSTEM and Administrators by SID
            // before
            // the token is written, and the token comes from a file or a prompt, never from the command line
            assertThat(install)
                    .contains(
                            "/inheritance:r",
                            "*S-1-5-32-544:",
                            "*S-1-5-18:",
                            "Protect-Path $DataDir",
                            "Protect-Path $ini",
                            "-TokenFile",
                            "Read-Host -AsSecureString");
            assertThat(install.indexOf("Protect-Path $ini '")).isLessThan(install.indexOf("WriteAllText"));
            assertThat(text(z, "dozor-agent/make-runtime.cmd"))
                    .contains("\r\n")
                    .contains("--add-modules java.base,", "--generate-cds-archive"); // the modules: LinuxPackageTest
        }
    }

    static String text(ZipFile z, String name) throws IOException {
        try (var in = z.getInputStream(z.getEntry(name))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
