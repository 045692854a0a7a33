package io.dozor.agent;

import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credential of an agent configured with {@code [server] enrollment_token}. First start (or lost state):
 * {@code POST /api/v1/enroll} with the enrollment token, host name, OS and an enrollment key gives the agent id,
 * an access token and a refresh credential, which {@link CredentialStore} keeps. The key (32 random bytes) is
 * saved there before the first attempt and sent with every attempt until one succeeds, so retrying an
 * enrolment whose answer was lost gets the same agent without spending another use of the enrollment token. Afterwards {@code POST /api/v1/token/refresh}
 * renews the access token a third of its lifetime (at most a minute) before it expires, so requests never
 * carry an expired token; after a time offline the first request renews first. A refused renewal (revoked,
 * lapsed) never falls back to enrolling again, or a revocation would undo itself: the agent keeps its
 * spool and retries; deleting the credential file makes it enrol anew. Thread-safe (shipper and heartbeat).
 */
final class EnrolledCredentials implements Credentials {
    private static final Logger log = LoggerFactory.getLogger(EnrolledCredentials.class);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final long MAX_MARGIN_NANOS = Duration.ofSeconds(60).toNanos();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ServerClient client;
    private final String enrollmentToken;
    private final CredentialStore store;
    private final String hostname;
    private final String os;
    private final LongSupplier nanoTime;
    private String access;
    private long renewAt;
    private long expiresAt;

    EnrolledCredentials(
            ServerClient client,
            String enrollmentToken,
            CredentialStore store,
            String hostname,
            String os,
            LongSupplier nanoTime) {
        this.client = client;
        this.enrollmentToken = enrollmentToken;
        this.store = store;
        this.hostname = hostname;
        this.os = os;
        this.nanoTime = nanoTime;
    }

    @Override
    public synchronized String authorization() throws IOException {
        long now = nanoTime.getAsLong();
        if (access != null && now - renewAt < 0) {
            return "Bearer " + access;
        }
        try {
            CredentialStore.Saved saved = store.load();
            obtain(saved != null && saved.enrolled() ? refresh(saved) : enroll(saved));
        } catch (IOException e) {
            if (access != null && now - expiresAt < 0) {
                log.debug("renewal failed, the access token is still valid [error={}]", e.toString());
                return "Bearer " + access; // renewal failed early: the current token still serves
            }
            access = null;
            throw e;
        }
        return "Bearer " + access;
    }

    @Override
    public synchronized boolean rejected(String authorization) {
        if (access != null && authorization.equals("Bearer " + access)) {
            access = null; // renewed at the next request
            return true;
        }
        return access == null;
    }

    /**
     * Enrols with the key of the enrolment under way ({@code pending}), or with a new key saved before the first
     * attempt: every attempt of one enrolment, also after a restart, sends the same key, so the server answers a
     * retry whose first attempt committed (its answer lost) with the same agent and spends no second use.
     */
    private Map<String, String> enroll(CredentialStore.Saved pending) throws IOException {
        String key;
        if (pending == null) {
            key = newEnrollmentKey();
            store.save(CredentialStore.Saved.pending(key));
        } else {
            key = pending.enrollmentKey();
        }
        ServerClient.Response r = client.send(
                client.endpoint("/api/v1/enroll"),
                EventJson.strings(Map.of("hostname", hostname, "os", os, "enrollment_key", key)),
                REQUEST_TIMEOUT,
                "Bearer " + enrollmentToken);
        Map<String, String> answer = answer(r, "enrolment");
        store.save(new CredentialStore.Saved(answer.get("agent_id"), answer.get("refresh_token")));
        log.info("agent enrolled [agent_id={}, credential={}]", answer.get("agent_id"), store.file());
        return answer;
    }

    private Map<String, String> refresh(CredentialStore.Saved saved) throws IOException {
        ServerClient.Response r = client.send(
                client.endpoint("/api/v1/token/refresh"),
                EventJson.strings(Map.of("refresh_token", saved.refreshToken())),
                REQUEST_TIMEOUT,
                null);
        Map<String, String> answer = answer(r, "renewal");
        store.save(new CredentialStore.Saved(answer.get("agent_id"), answer.get("refresh_token")));
        log.debug("access token renewed [agent_id={}]", answer.get("agent_id"));
        return answer;
    }

    /** A 2xx answer's fields; 400/401/403: {@link Refused}; anything else: an IOException to retry. */
    private static Map<String, String> answer(ServerClient.Response r, String what) throws IOException {
        int status = r.status();
        if (status == 400 || status == 401 || status == 403) {
            String reason;
            try {
                Map<String, String> body = EventJson.fields(r.body());
                reason = body.getOrDefault("reason", body.getOrDefault("error", "status " + status));
            } catch (IOException e) {
                reason = "status " + status;
            }
            throw new Refused(what + " refused by the server (" + reason + ")");
        }
        if (status / 100 != 2) {
            throw new IOException(what + ": server answered " + status);
        }
        Map<String, String> fields = EventJson.fields(r.body());
        for (String f : new String[] {"agent_id", "access_token", "expires_in", "refresh_token"}) {
            if (fields.get(f) == null || fields.get(f).isBlank()) {
                throw new IOException(what + ": the answer has no " + f);
            }
        }
        return fields;
    }

    /** 32 random bytes, base64url without padding (43 characters). */
    private static String newEnrollmentKey() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private void obtain(Map<String, String> answer) throws IOException {
        long lifetime;
        try {
            lifetime =
                    Duration.ofSeconds(Long.parseLong(answer.get("expires_in"))).toNanos();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IOException("expires_in is not a number of seconds");
        }
        long now = nanoTime.getAsLong();
        access = answer.get("access_token");
        expiresAt = now + lifetime;
        renewAt = expiresAt - Math.min(MAX_MARGIN_NANOS, lifetime / 3);
    }
}
