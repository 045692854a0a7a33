package io.dozor.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The token signing secrets: what a good one is, how to make one, and the key id ({@code kid}) naming each
 * without revealing it. Refused: shorter than {@value #MIN_LENGTH} characters, a value shipped in the
 * repository's examples (anyone can read those), and obviously low entropy (few distinct characters, a
 * repeated block, a long run such as {@code aaaaaaaa} or {@code 12345678}).
 */
public final class Secrets {
    public static final int MIN_LENGTH = 32;
    private static final int MIN_DISTINCT = 8;
    private static final int MAX_RUN = 8;
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Every example value of {@code auth.token_secret} in the repository ({@code etc/}, {@code
     * docker-compose.elk.yml}, {@code docs/}, README); {@code SecretsTest} fails when one is missing here.
     */
    static final List<String> SHIPPED = List.of(
            "change-me-to-32-or-more-random-characters",
            "at least 32 random characters, the same on every server",
            "paste the output of dozor-server secret generate here");

    private Secrets() {}

    /** 32 random bytes, base64url without padding (43 characters): what {@code secret generate} prints. */
    public static String generate() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Why {@code secret} must not sign tokens, or empty when it is good enough. */
    public static Optional<String> problem(String secret) {
        if (secret.length() < MIN_LENGTH) {
            return Optional.of("too short (" + secret.length() + " characters; at least " + MIN_LENGTH + ")");
        }
        String normalised = secret.trim().toLowerCase(Locale.ROOT);
        if (SHIPPED.stream().anyMatch(s -> s.equals(normalised))) {
            return Optional.of("is an example value shipped with Dozor; make one with `dozor-server secret generate`");
        }
        if (secret.chars().distinct().count() < MIN_DISTINCT || repeatsBlock(secret) || hasRun(secret)) {
            return Optional.of("too predictable (few distinct characters, a repeated block or a run such as "
                    + "12345678); make one with `dozor-server secret generate`");
        }
        return Optional.empty();
    }

    /** The {@code kid} of a key: 8 hex digits of its SHA-256, enough to tell keys apart, useless to guess one. */
    public static String keyId(String secret) {
        return hashPrefix(secret);
    }

    /** 8 hex digits of the SHA-256 of {@code value}: how logs name tokens, token ids and credentials. */
    public static String hashPrefix(String value) {
        return HexFormat.of().formatHex(sha256(value), 0, 4);
    }

    public static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The whole secret is one shorter block repeated (abcdabcd...). */
    private static boolean repeatsBlock(String s) {
        for (int period = 1; period <= s.length() / 2; period++) {
            boolean repeats = true;
            for (int i = period; i < s.length() && repeats; i++) {
                repeats = s.charAt(i) == s.charAt(i - period);
            }
            if (repeats) {
                return true;
            }
        }
        return false;
    }

    /** {@value #MAX_RUN} characters in a row each equal to, one above or one below the previous. */
    private static boolean hasRun(String s) {
        int run = 1;
        for (int i = 1; i < s.length(); i++) {
            int step = s.charAt(i) - s.charAt(i - 1);
            run = Math.abs(step) <= 1 ? run + 1 : 1;
            if (run >= MAX_RUN) {
                return true;
            }
        }
        return false;
    }
}
