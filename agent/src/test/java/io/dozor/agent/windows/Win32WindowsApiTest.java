package io.dozor.agent.windows;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dozor.agent.windows.WindowsApi.ProcessDetails;
import io.dozor.agent.windows.WindowsApi.WindowsException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class Win32WindowsApiTest {

    private final FakeWin32 win32 = new FakeWin32();
    private final Win32WindowsApi api = new Win32WindowsApi(win32);

    @AfterEach
    void everyHandleIsClosed() {
        assertThat(win32.open).as("handles left open").isEmpty();
    }

    @Test
    void listsThePidsInOneCallWhenTheBufferIsNotFull() {
        win32.pidCount = 300;

        assertThat(api.processIds()).hasSize(300).startsWith(4, 8, 12);
        assertThat(win32.enumBufferSizes).containsExactly(Win32WindowsApi.FIRST_PIDS);
    }

    @Test
    void aFullBufferMayBeTruncatedSoItGrowsAndAsksAgain() {
        win32.pidCount = 3000;

        assertThat(api.processIds()).hasSize(3000);
        assertThat(win32.enumBufferSizes).containsExactly(1024, 2048, 4096);
    }

    @Test
    void exactlyAsManyPidsAsTheBufferHoldsIsAskedAgainToo() {
        win32.pidCount = 1024;

        assertThat(api.processIds()).hasSize(1024);
        assertThat(win32.enumBufferSizes).containsExactly(1024, 2048);
        win32.enumBufferSizes.clear();
        api.processIds(); // the grown buffer is kept
        assertThat(win32.enumBufferSizes).containsExactly(2048);
    }

    @Test
    void thePidBufferIsBounded() {
        win32.pidCount = Integer.MAX_VALUE;

        assertThatThrownBy(api::processIds)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("more than " + Win32WindowsApi.MAX_PIDS);
        assertThat(win32.enumBufferSizes).last().isEqualTo(Win32WindowsApi.MAX_PIDS);
    }

    @Test
    void aFailedEnumProcessesNamesItsError() {
        win32.enumError = 8;

        assertThatThrownBy(api::processIds)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("EnumProcesses failed")
                .hasMessageContaining("error=8");
    }

    @Test
    void readsImageStartUserWithItsDomainAndSession() throws Exception {
        win32.add(700).session = 2;

        ProcessDetails d = api.query(700);

        assertThat(d.image()).isEqualTo("C:\\Windows\\notepad.exe");
        assertThat(d.startTime()).isEqualTo(WindowsProcessSource.fileTimeToInstant(134_000_000_000_000_000L));
        assertThat(d.user()).isEqualTo("CORP\\ivanov");
        assertThat(d.sessionId()).isEqualTo(2);
        assertThat(win32.imageBufferSizes).containsExactly(Win32WindowsApi.MAX_PATH);
    }

    @Test
    void anImagePathLongerThanMaxPathIsReadWithTheLongestPathBuffer() throws Exception {
        String deep = "C:\\Apps\\" + "d".repeat(400) + "\\chrome.exe";
        win32.add(700).image = deep;

        assertThat(api.query(700).image()).isEqualTo(deep);
        assertThat(win32.imageBufferSizes).containsExactly(260, 32_768);
    }

    @Test
    void aPathThatDoesNotFitEvenTheLongestBufferFailsAndClosesTheHandle() {
        win32.add(700).image = "C:\\" + "x".repeat(40_000);

        assertThatThrownBy(() -> api.query(700))
                .isInstanceOf(WindowsException.class)
                .extracting(e -> ((WindowsException) e).code())
                .isEqualTo(Win32.ERROR_INSUFFICIENT_BUFFER);
        assertThat(win32.imageBufferSizes).containsExactly(260, 32_768);
    }

    @Test
    void tokenUserIsSizedByTheSizingCallThenReadWithThatSize() throws Exception {
        win32.add(700);

        api.query(700);

        assertThat(win32.tokenBufferSizes).containsExactly(0, 16 + 12);
    }

    @Test
    void longAccountNamesGrowTheLookupBuffersToWhatTheCallAsksFor() throws Exception {
        FakeWin32.Proc p = win32.add(700);
        p.domain = "D".repeat(200);
        p.name = "n".repeat(100);

        assertThat(api.query(700).user()).isEqualTo(p.domain + "\\" + p.name);
        assertThat(win32.lookupBufferSizes).containsExactly(Win32WindowsApi.FIRST_NAME_CHARS, 201);
    }

    @Test
    void aLocalAccountWithoutDomainIsJustItsName() throws Exception {
        win32.add(700).domain = "";

        assertThat(api.query(700).user()).isEqualTo("ivanov");
    }

    @Test
    void aSidWithoutAccountLeavesTheUserUnknownButKeepsTheRest() throws Exception {
        FakeWin32.Proc p = win32.add(700);
        p.lookupError = Win32.ERROR_NONE_MAPPED;
        p.session = 3;

        ProcessDetails d = api.query(700);

        assertThat(d.user()).isNull();
        assertThat(d.sessionId()).isEqualTo(3);
        assertThat(d.image()).endsWith("notepad.exe");
    }

    @Test
    void aProtectedProcessWhoseTokenIsDeniedHasNoUserAndTheSessionFromItsPid() throws Exception {
        FakeWin32.Proc p = win32.add(700);
        p.tokenError = WindowsException.ERROR_ACCESS_DENIED;
        p.session = 0;

        ProcessDetails d = api.query(700);

        assertThat(d.user()).isNull();
        assertThat(d.sessionId()).isZero();
    }

    @Test
    void sessionIsMinusOneWhenNeitherTheTokenNorThePidGiveIt() throws Exception {
        FakeWin32.Proc p = win32.add(700);
        p.tokenError = WindowsException.ERROR_ACCESS_DENIED;
        p.sessionIdError = WindowsException.ERROR_ACCESS_DENIED;

        assertThat(api.query(700).sessionId()).isEqualTo(-1);
    }

    @Test
    void accessDeniedAndGoneKeepTheCodeOfTheFailedCall() {
        win32.add(700).openError = WindowsException.ERROR_ACCESS_DENIED;

        assertThatThrownBy(() -> api.query(700))
                .isInstanceOfSatisfying(
                        WindowsException.class,
                        e -> assertThat(e.accessDenied()).isTrue());
        assertThatThrownBy(() -> api.query(701))
                .isInstanceOfSatisfying(
                        WindowsException.class, e -> assertThat(e.processGone()).isTrue());
    }

    @Test
    void theStartTimeAloneOpensReadsAndClosesWithoutTheToken() throws Exception {
        win32.add(700);

        assertThat(api.startTime(700)).isEqualTo(WindowsProcessSource.fileTimeToInstant(134_000_000_000_000_000L));
        assertThat(win32.tokenBufferSizes).isEmpty();
        assertThat(win32.lookupBufferSizes).isEmpty();
    }

    @Test
    void aFailedStartTimeReadClosesTheHandle() {
        win32.add(700).timesError = WindowsException.ERROR_ACCESS_DENIED;

        assertThatThrownBy(() -> api.startTime(700))
                .isInstanceOfSatisfying(
                        WindowsException.class,
                        e -> assertThat(e.accessDenied()).isTrue());
    }

    @Test
    void aFailureAfterOpenProcessStillClosesTheProcessHandle() {
        win32.add(700).timesError = WindowsException.ERROR_ACCESS_DENIED;

        assertThatThrownBy(() -> api.query(700))
                .isInstanceOf(WindowsException.class)
                .hasMessageContaining("GetProcessTimes");
        // everyHandleIsClosed checks the rest
    }
}
