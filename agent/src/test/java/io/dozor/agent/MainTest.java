package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void aMissingConfigFileExitsWith2AndOneLine() {
        Path missing = dir.resolve("nope.ini");

        assertThat(run("run", "--config", missing.toString())).isEqualTo(2);

        assertThat(err.toString())
                .isEqualTo("dozor-agent: --config " + missing + ": file not found" + System.lineSeparator());
    }

    @Test
    void aBadSettingExitsWith2AndOneLineNamingIt() throws IOException {
        Path ini = dir.resolve("agent.ini");
        Files.writeString(ini, "[server]\nurl = http://a\ntoken = t\n[monitor]\npoll_interval_ms = abc\n");

        assertThat(run("run", "--config", ini.toString())).isEqualTo(2);

        assertThat(err.toString())
                .isEqualTo("dozor-agent: [monitor] poll_interval_ms: must be a positive integer, got \"abc\""
                        + System.lineSeparator());
    }

    @Test
    void aMissingUrlIsNamed() throws IOException {
        Path ini = dir.resolve("agent.ini");
        Files.writeString(ini, "[server]\ntoken = t\n");

        assertThat(run("run", "--config", ini.toString())).isEqualTo(2);

        assertThat(err.toString()).isEqualTo("dozor-agent: [server] url: missing" + System.lineSeparator());
    }

    @Test
    void runWithoutConfigOptionExitsWith2AndOneLine() {
        assertThat(run("run")).isEqualTo(2);

        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("dozor-agent: ")
                .contains("--config");
    }

    @Test
    void noCommandExitsWith2AndOneLine() {
        assertThat(run()).isEqualTo(2);

        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .isEqualTo("dozor-agent: missing command (expected: run)");
    }

    @Test
    void anUnknownOptionExitsWith2AndOneLine() {
        assertThat(run("run", "--confg", "x.ini")).isEqualTo(2);

        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("dozor-agent: ")
                .contains("--confg");
    }

    @Test
    void helpIsNotAnError() {
        assertThat(run("--help")).isZero();

        assertThat(out.toString()).contains("run");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void installServiceRefusesABadSettingWith2AndOneLineNamingIt() throws IOException {
        Path ini = dir.resolve("agent.ini");
        Files.writeString(ini, "[server]\nurl = http://a\ntoken = t\n[spool]\nmax_mb = lots\n");

        assertThat(run("install-service", "--config", ini.toString())).isEqualTo(2);

        assertThat(err.toString())
                .startsWith("dozor-agent: [spool] max_mb: must be a number of megabytes")
                .hasLineCount(1);
    }

    @Test
    void serviceNotStartedByTheServiceControlManagerExitsWith1AndOneLine() throws IOException {
        Path ini = dir.resolve("agent.ini");
        Files.writeString(
                ini,
                "[server]\nurl = http://127.0.0.1:9\ntoken = t\nallow_insecure_http = true\n[spool]\ndir = "
                        + dir.resolve("spool").toString().replace('\\', '/') + "\n");

        // Linux: advapi32 cannot be loaded; Windows: StartServiceCtrlDispatcher fails (error 1063)
        assertThat(run("service", "--config", ini.toString())).as(err::toString).isEqualTo(1);

        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("dozor-agent: cannot run as a service: ");
    }

    @Test
    void everyOtherMisuseIsOneLineNamingIt() {
        String[][] cases = {
            {"start"}, {"unknown command: start (expected: run, service, install-service or uninstall-service)"},
            {"run", "--config"}, {"--config needs a FILE"},
            {"run", "--config="}, {"--config needs a FILE"},
            {"run", "--config", "a.ini", "--config", "b.ini"}, {"--config given twice"},
            {"run", "now", "--config", "a.ini"}, {"unexpected argument: now"},
            {"uninstall-service", "--config", "a.ini"}, {"uninstall-service takes no --config"},
            {"install-service"}, {"install-service needs --config FILE"},
        };
        for (int i = 0; i < cases.length; i += 2) {
            out.getBuffer().setLength(0);
            err.getBuffer().setLength(0);
            assertThat(run(cases[i])).as(String.join(" ", cases[i])).isEqualTo(2);
            assertThat(err.toString()).isEqualTo("dozor-agent: " + cases[i + 1][0] + System.lineSeparator());
            assertThat(out.toString()).isEmpty();
        }
    }

    @Test
    void theConfigMayBeGivenWithAnEqualsSignAndBeforeTheCommand() {
        Path missing = dir.resolve("nope.ini");

        assertThat(run("--config=" + missing, "run")).isEqualTo(2);

        assertThat(err.toString())
                .isEqualTo("dozor-agent: --config " + missing + ": file not found" + System.lineSeparator());
    }

    @Test
    void versionAndHelpOfACommandAreNotErrors() {
        assertThat(run("-V")).isZero();
        assertThat(out.toString()).isEqualTo("dozor-agent " + Agent.VERSION + System.lineSeparator());

        out.getBuffer().setLength(0);
        assertThat(run("run", "--help")).isZero();
        assertThat(out.toString()).contains("run --config FILE", "install-service", "uninstall-service");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void theServiceCommandLineQuotesPathsAndCarriesTheLauncherFlags() {
        String line = Main.serviceCommandLine(
                Path.of("C:/Program Files/Java/bin/java.exe"),
                " -Xmx48m -Xss256k ",
                Path.of("C:/Program Files/Dozor/dozor-agent.jar"),
                Path.of("C:/Program Files/Dozor/agent.ini"));

        assertThat(line)
                .isEqualTo(
                        "\"C:/Program Files/Java/bin/java.exe\" -Xmx48m -Xss256k -jar "
                                + "\"C:/Program Files/Dozor/dozor-agent.jar\" service --config \"C:/Program Files/Dozor/agent.ini\"");
    }
}
