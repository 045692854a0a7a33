package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Enrolment and renewal against a local stand-in of the server's two credential routes, on a fake clock. */
class EnrolledCredentialsTest {
    @TempDir
    Path dir;

    HttpServer server;
    final List<String> calls = new CopyOnWriteArrayList<>();
    final AtomicInteger issued = new AtomicInteger();
    volatile int refreshStatus = 200;
    /** What the stand-in answers an enrolment; {@link #ANSWER_LOST}: a 200 whose body never arrives. */
    volatile int enrollStatus = 200;

    static final int ANSWER_LOST = 0;
    /** What the credential file held when each enrolment request arrived. */
    final List<CredentialStore.Saved> savedAtEnrolment = new CopyOnWriteArrayList<>();

    final AtomicLong now = new AtomicLong(1_000_000_000L);
    URI url;
    EnrolledCredentials credentials;
    CredentialStore store;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/v1/enroll", ex -> {
            savedAtEnrolment.add(new CredentialStore(dir, new CredentialStoreTest.FakeProtector()).load());
            answer(ex, enrollStatus);
        });
        server.createContext("/api/v1/token/refresh", ex -> answer(ex, refreshStatus));
        server.start();
        url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        store = new CredentialStore(dir, new CredentialStoreTest.FakeProtector());
        credentials = enrolling(store);
    }

    /** The agent's enrolment flow over {@code store}, as a (re)started agent builds it. */
    EnrolledCredentials enrolling(CredentialStore store) {
        return new EnrolledCredentials(
                new ServerClient(url, null, null), "ENROLL-TOKEN", store, "PC-01", "Linux 6", now::get);
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void answer(HttpExchange ex, int status) throws IOException {
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        calls.add(ex.getRequestURI().getPath() + " " + ex.getRequestHeaders().getFirst("Authorization") + " " + body);
        int n = issued.incrementAndGet();
        String answer = status == 200
                ? "{\"agent_id\":\"PC-01\",\"access_token\":\"access-" + n + "\",\"expires_in\":9,\"refresh_token\":\"r"
                        + n + "\"}"
                : "{\"error\":\"no\",\"reason\":\"refresh_refused\"}";
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        if (status == ANSWER_LOST) { // the headers of a 200, then the connection closes before the body
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes, 0, 1);
            ex.getResponseBody().flush();
            ex.close();
            return;
        }
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }

    static String enrollmentKey(String call) {
        Matcher m = Pattern.compile("\"enrollment_key\":\"([^\"]*)\"").matcher(call);
        assertThat(m.find()).as(call).isTrue();
        return m.group(1);
    }

    void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void enrolsOnceThenRenewsAThirdOfTheLifetimeBeforeExpiry() throws IOException {
        assertThat(credentials.authorization()).isEqualTo("Bearer access-1");
        assertThat(calls)
                .singleElement()
                .asString()
                .startsWith("/api/v1/enroll Bearer ENROLL-TOKEN ")
                .contains("\"hostname\":\"PC-01\"")
                .contains("\"os\":\"Linux 6\"");
        assertThat(store.load()).isEqualTo(new CredentialStore.Saved("PC-01", "r1"));

        advance(Duration.ofMillis(5_900)); // 9 s lifetime: renewed from 6 s on
        assertThat(credentials.authorization()).isEqualTo("Bearer access-1");
        assertThat(calls).hasSize(1);
        advance(Duration.ofMillis(200));
        assertThat(credentials.authorization()).isEqualTo("Bearer access-2");
        assertThat(calls.get(1)).isEqualTo("/api/v1/token/refresh null {\"refresh_token\":\"r1\"}");
        assertThat(store.load().refreshToken()).isEqualTo("r2");
    }

    /**
     * The key is generated once and saved (through the protector) before the first attempt; every attempt of the
     * enrolment sends it, also those of the agent started again; it is gone from the file once enrolled, and a
     * lost credential file means a new enrolment with a new key.
     */
    @Test
    void oneEnrollmentKeySavedBeforeTheFirstAttemptIsSentByEveryAttemptAlsoAfterARestart() throws IOException {
        enrollStatus = 503;
        assertThatThrownBy(credentials::authorization)
                .isInstanceOf(IOException.class)
                .isNotInstanceOf(Credentials.Refused.class);
        String key = enrollmentKey(calls.get(0));
        assertThat(key).matches("[A-Za-z0-9_-]{43}");
        assertThat(savedAtEnrolment).containsExactly(CredentialStore.Saved.pending(key));
        assertThat(Files.readString(store.file(), StandardCharsets.ISO_8859_1))
                .startsWith("FAKE")
                .doesNotContain(key);
        assertThat(store.load().toString()).doesNotContain(key);

        enrollStatus = ANSWER_LOST;
        assertThatThrownBy(credentials::authorization)
                .isInstanceOf(IOException.class)
                .isNotInstanceOf(Credentials.Refused.class);
        assertThat(calls).hasSize(2);

        enrollStatus = 200;
        CredentialStore restarted = new CredentialStore(dir, new CredentialStoreTest.FakeProtector());
        assertThat(enrolling(restarted).authorization()).isEqualTo("Bearer access-3");
        assertThat(calls)
                .hasSize(3)
                .allSatisfy(call -> assertThat(enrollmentKey(call)).isEqualTo(key));
        assertThat(savedAtEnrolment).hasSize(3).containsOnly(CredentialStore.Saved.pending(key));
        assertThat(restarted.load()).isEqualTo(new CredentialStore.Saved("PC-01", "r3"));
        assertThat(new String(
                        new CredentialStoreTest.FakeProtector().unprotect(Files.readAllBytes(store.file())),
                        StandardCharsets.UTF_8))
                .doesNotContain("enrollment_key");

        Files.delete(store.file());
        assertThat(enrolling(restarted).authorization()).isEqualTo("Bearer access-4");
        assertThat(enrollmentKey(calls.get(3))).isNotEqualTo(key).matches("[A-Za-z0-9_-]{43}");
    }

    @Test
    void aRefusedEnrolmentKeepsItsKeyForTheNextAttempt() throws IOException {
        enrollStatus = 401;
        assertThatThrownBy(credentials::authorization).isInstanceOf(Credentials.Refused.class);
        enrollStatus = 200;
        assertThat(credentials.authorization()).isEqualTo("Bearer access-2");
        assertThat(enrollmentKey(calls.get(1))).isEqualTo(enrollmentKey(calls.get(0)));
    }

    @Test
    void afterAnOutageLongerThanTheTokenItRenewsBeforeTheFirstRequest() throws IOException {
        credentials.authorization();
        advance(Duration.ofDays(3));
        assertThat(credentials.authorization()).isEqualTo("Bearer access-2");
        assertThat(calls.get(1)).startsWith("/api/v1/token/refresh");
    }

    @Test
    void aFailedEarlyRenewalKeepsTheValidTokenAndAnExpiredOneIsNotSent() throws IOException {
        credentials.authorization();
        refreshStatus = 503;
        advance(Duration.ofSeconds(7));
        assertThat(credentials.authorization()).isEqualTo("Bearer access-1");
        advance(Duration.ofSeconds(3)); // past expiry
        assertThatThrownBy(credentials::authorization)
                .isInstanceOf(IOException.class)
                .isNotInstanceOf(Credentials.Refused.class);
        refreshStatus = 200;
        assertThat(credentials.authorization()).startsWith("Bearer access-");
    }

    @Test
    void aRefusedRenewalNeverEnrolsAgainUntilTheCredentialFileIsGone() throws IOException {
        credentials.authorization();
        refreshStatus = 401;
        advance(Duration.ofSeconds(10));
        assertThatThrownBy(credentials::authorization)
                .isInstanceOf(Credentials.Refused.class)
                .hasMessageContaining("refresh_refused");
        assertThatThrownBy(credentials::authorization).isInstanceOf(Credentials.Refused.class);
        assertThat(calls).filteredOn(c -> c.startsWith("/api/v1/enroll")).hasSize(1);

        Files.delete(store.file());
        assertThat(credentials.authorization()).startsWith("Bearer access-");
        assertThat(calls).filteredOn(c -> c.startsWith("/api/v1/enroll")).hasSize(2);
    }

    @Test
    void a401ToARequestRenewsOnceAndTheClientResends() throws IOException {
        credentials.authorization();
        assertThat(credentials.rejected("Bearer access-1")).isTrue();
        assertThat(credentials.authorization()).isEqualTo("Bearer access-2");
        assertThat(credentials.rejected("Bearer stale")).isFalse();
    }
}
