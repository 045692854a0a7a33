package io.dozor.agent.windows;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dozor.agent.windows.WindowsApi.ProcessDetails;
import io.dozor.agent.windows.WindowsApi.WindowsException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** The real Win32 calls (JNA): run only on Windows (the Windows CI job), skipped elsewhere. */
@EnabledOnOs(OS.WINDOWS)
class JnaWin32Test {

    private final Win32WindowsApi api = new Win32WindowsApi(new JnaWin32());

    @Test
    void readsThisJvmWithItsImageStartTimeDomainUserAndSession() throws Exception {
        ProcessHandle self = ProcessHandle.current();

        ProcessDetails d = api.query((int) self.pid());

        assertThat(d.image()).isEqualToIgnoringCase(self.info().command().orElseThrow());
        assertThat(Duration.between(d.startTime(), self.info().startInstant().orElseThrow())
                        .abs())
                .isLessThan(Duration.ofSeconds(1));
        assertThat(d.user())
                .isEqualToIgnoringCase(System.getenv("USERDOMAIN") + "\\" + System.getProperty("user.name"));
        assertThat(d.sessionId()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void listsThisJvmAmongThePids() {
        assertThat(api.processIds())
                .contains((int) ProcessHandle.current().pid())
                .doesNotHaveDuplicates();
    }

    @Test
    void pidZeroAndAPidNotInUseAreReportedGoneWithTheCodeOfTheFailedCall() {
        // OpenProcess answers ERROR_INVALID_PARAMETER: read with Native.getLastError() right after the call
        assertThatThrownBy(() -> api.query(0))
                .isInstanceOfSatisfying(
                        WindowsException.class,
                        e -> assertThat(e.processGone()).as(e.getMessage()).isTrue());
        assertThatThrownBy(() -> api.query(0x7FFF_FFF0))
                .isInstanceOfSatisfying(
                        WindowsException.class,
                        e -> assertThat(e.processGone()).as(e.getMessage()).isTrue());
    }

    @Test
    void takesAToolhelpSnapshotWithThisJvmsParent() {
        ProcessHandle self = ProcessHandle.current();

        assertThat(api.parentIds()).containsEntry((int) self.pid(), (int)
                self.parent().map(ProcessHandle::pid).orElseThrow().longValue());
    }
}
