package io.dozor.server.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.dozor.server.bus.Messages;
import io.dozor.server.bus.Messages.Heartbeat;
import io.dozor.server.model.LaunchEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns a {@code POST /api/v1/events} body into launch events, or a {@link BadRequest} naming the
 * first bad field. All or nothing: one bad event rejects the batch. Unknown fields are ignored, and
 * so is any {@code agent_id}: the agent is who the token says.
 *
 * <p>Refused as what cannot be true: a timestamp before {@link #EARLIEST} or after now + the allowed
 * future skew (so the monthly Elasticsearch indices an event can reach are bounded by that window), and in
 * every string kept, control characters (C0, DEL, C1: a newline would forge a second line in Telegram),
 * bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) and lone surrogates. The JSON is
 * strict: no comments, no duplicate keys, nothing after the root object, at most {@link #MAX_DEPTH} levels
 * (enforced by the parser itself).
 */
public final class EventBatchParser {
    public static final int MAX_EVENTS = 1_000;
    static final int MAX_NAME = 256;
    static final int MAX_SPOOL_ERROR = 200;
    static final int MAX_PATH = 4_096;
    /** Deeper JSON is refused by the parser: no legitimate body nests beyond a few levels. */
    static final int MAX_DEPTH = 16;
    /** No launch reported by an agent can be older than this. */
    public static final Instant EARLIEST = Instant.parse("2000-01-01T00:00:00Z");

    /**
     * Jackson with the defaults that matter spelled out: comments and other JSON extensions stay off (Vert.x's
     * own decoder allows comments), duplicate keys and trailing tokens fail, and the nesting depth is a
     * stream constraint, so it holds whatever the bytes hide it behind.
     */
    private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_DEPTH)
                            .build())
                    .disable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
                    .disable(JsonReadFeature.ALLOW_YAML_COMMENTS)
                    .disable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
                    .disable(JsonReadFeature.ALLOW_UNQUOTED_FIELD_NAMES)
                    .disable(JsonReadFeature.ALLOW_TRAILING_COMMA)
                    .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                    .disable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Clock clock;
    private final Duration maxFutureSkew;

    /** Timestamps are accepted from {@link #EARLIEST} to {@code clock}'s now + {@code maxFutureSkew}. */
    public EventBatchParser(Clock clock, Duration maxFutureSkew) {
        this.clock = clock;
        this.maxFutureSkew = maxFutureSkew;
    }

    /** The latest timestamp accepted now. */
    public Instant latest() {
        return clock.instant().plus(maxFutureSkew);
    }

    public List<LaunchEvent> parse(Buffer body) {
        if (body == null || body.length() == 0) {
            throw new BadRequest("body", "empty; expected {\"events\": [...]}");
        }
        JsonObject root = object(body);
        Object events = root.getValue("events");
        if (!(events instanceof JsonArray array)) {
            throw new BadRequest("events", "must be an array");
        }
        if (array.isEmpty()) {
            throw new BadRequest("events", "must not be empty");
        }
        if (array.size() > MAX_EVENTS) {
            throw new BadRequest("events", "at most " + MAX_EVENTS + " events per batch, got " + array.size());
        }
        Instant latest = latest();
        List<LaunchEvent> parsed = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            String at = "events[" + i + "]";
            if (!(array.getValue(i) instanceof JsonObject event)) {
                throw new BadRequest(at, "must be an object");
            }
            parsed.add(event(at, event, latest));
        }
        return parsed;
    }

    private static LaunchEvent event(String at, JsonObject e, Instant latest) {
        return new LaunchEvent(
                uuid(at + ".event_id", e.getValue("event_id")),
                timestamp(at + ".timestamp", e.getValue("timestamp"), latest),
                text(at + ".username", e.getValue("username"), MAX_NAME, true),
                text(at + ".process_name", e.getValue("process_name"), MAX_NAME, true),
                pid(at + ".pid", e.getValue("pid")),
                text(at + ".executable", e.getValue("executable"), MAX_PATH, false),
                text(at + ".hostname", e.getValue("hostname"), MAX_NAME, false),
                context(at, e));
    }

    /** ECS's expected values of {@code host.os.type}. */
    static final List<String> OS_TYPES = List.of("linux", "macos", "unix", "windows", "ios", "android");

    /** The optional fields of newer agents; an older agent's event has none of them. */
    private static LaunchEvent.Context context(String at, JsonObject e) {
        String osType = optional(at + ".os_type", e.getValue("os_type"), MAX_NAME);
        if (osType != null && !OS_TYPES.contains(osType)) {
            throw new BadRequest(
                    at + ".os_type",
                    "must be one of " + String.join(", ", OS_TYPES) + ", got \"" + clip(osType) + "\"");
        }
        return new LaunchEvent.Context(
                pid(at + ".parent_pid", e.getValue("parent_pid")),
                optional(at + ".parent_name", e.getValue("parent_name"), MAX_NAME),
                optional(at + ".user_domain", e.getValue("user_domain"), MAX_NAME),
                osType,
                optional(at + ".os_family", e.getValue("os_family"), MAX_NAME),
                optional(at + ".agent_version", e.getValue("agent_version"), MAX_NAME));
    }

    /** An optional string: absent (or null) is null; present, it is checked as a name and must not be blank. */
    private static String optional(String field, Object value, int max) {
        String s = text(field, value, max, false);
        if (s != null && s.isBlank()) {
            throw new BadRequest(field, "must not be empty (leave the field out when unknown)");
        }
        return s;
    }

    /**
     * A heartbeat body: {@code {"version": "0.1.0", "hostname": "PC-01", "spool_depth": 0,
     * "dropped_events": 0, "unpersisted_events": 0, "spool_error": null}}; version and hostname are required,
     * the counters default to 0, {@code spool_error} (absent or null: the spool works) is a short non-empty
     * reason of at most {@value #MAX_SPOOL_ERROR} characters. It carries no timestamp (the server's clock
     * stamps it).
     */
    public static Heartbeat heartbeat(String agentId, Buffer body) {
        JsonObject root = object(body);
        String spoolError = text("spool_error", root.getValue("spool_error"), MAX_SPOOL_ERROR, false);
        if (spoolError != null && spoolError.isBlank()) {
            throw new BadRequest("spool_error", "must not be empty (null when the spool works)");
        }
        return new Heartbeat(
                agentId,
                text("hostname", root.getValue("hostname"), MAX_NAME, true),
                text("version", root.getValue("version"), MAX_NAME, true),
                counter("spool_depth", root.getValue("spool_depth")),
                counter("dropped_events", root.getValue("dropped_events")),
                counter("unpersisted_events", root.getValue("unpersisted_events")),
                spoolError);
    }

    /** Longest host name an agent may enrol with: room is left for the suffix of a second PC of that name. */
    static final int MAX_ENROLL_HOSTNAME = 100;

    /** Bounds of an enrollment key: base64url of 16 to 64 random bytes (the agent sends 32). */
    static final int MIN_ENROLLMENT_KEY = 22;

    static final int MAX_ENROLLMENT_KEY = 86;
    private static final java.util.regex.Pattern BASE64URL = java.util.regex.Pattern.compile("[A-Za-z0-9_-]*");

    /**
     * {@code POST /api/v1/enroll}: the host name (the agent id asked for), the operating system and, optional
     * (older agents send none), the enrollment key that makes a retried enrolment of the same installation give
     * the same agent: {@value #MIN_ENROLLMENT_KEY} to {@value #MAX_ENROLLMENT_KEY} base64url characters (at least
     * 128 bits).
     */
    public static Messages.EnrollRequest enrollment(java.util.UUID tokenId, String enrollmentName, Buffer body) {
        JsonObject root = object(body);
        String hostname = text("hostname", root.getValue("hostname"), MAX_ENROLL_HOSTNAME, true)
                .strip();
        if (hostname.isEmpty() || !hostname.equals(hostname.replaceAll("\\s", ""))) {
            throw new BadRequest("hostname", "must not contain spaces");
        }
        return new Messages.EnrollRequest(
                tokenId,
                enrollmentName,
                hostname,
                text("os", root.getValue("os"), MAX_NAME, true),
                enrollmentKey(root.getValue("enrollment_key")));
    }

    private static String enrollmentKey(Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof String key)) {
            throw new BadRequest("enrollment_key", "must be a string");
        }
        if (key.isEmpty()) {
            throw new BadRequest("enrollment_key", "must not be empty (leave the field out when there is none)");
        }
        if (key.length() > MAX_ENROLLMENT_KEY) {
            throw new BadRequest("enrollment_key", "longer than " + MAX_ENROLLMENT_KEY + " characters");
        }
        if (!BASE64URL.matcher(key).matches()) {
            throw new BadRequest("enrollment_key", "must be base64url (letters, digits, - and _)");
        }
        if (key.length() < MIN_ENROLLMENT_KEY) {
            throw new BadRequest(
                    "enrollment_key", "shorter than " + MIN_ENROLLMENT_KEY + " characters (at least 128 random bits)");
        }
        return key;
    }

    /** {@code POST /api/v1/token/refresh}: the refresh credential. */
    public static String refreshToken(Buffer body) {
        JsonObject root = object(body);
        return text("refresh_token", root.getValue("refresh_token"), MAX_NAME, true);
    }

    private static long counter(String field, Object value) {
        Long n = pid(field, value);
        return n == null ? 0 : n;
    }

    @SuppressWarnings("unchecked")
    private static JsonObject object(Buffer body) {
        if (body == null || body.length() == 0) {
            throw new BadRequest("body", "empty; expected a JSON object");
        }
        Object root;
        try {
            root = JSON.readValue(body.getBytes(), Object.class);
        } catch (StreamConstraintsException e) {
            throw new BadRequest("body", "JSON nested deeper than " + MAX_DEPTH + " levels");
        } catch (JsonProcessingException e) {
            String why = String.valueOf(e.getOriginalMessage());
            if (why.contains("ALLOW_COMMENTS") || why.contains("ALLOW_YAML_COMMENTS")) {
                throw new BadRequest("body", "comments are not JSON");
            }
            if (why.startsWith("Duplicate field")) {
                throw new BadRequest(
                        "body",
                        "duplicate key "
                                + clip(why.substring(why.indexOf('\'') + 1).replace("'", "")));
            }
            throw new BadRequest("body", "not a JSON object");
        } catch (IOException e) {
            throw new BadRequest("body", "not a JSON object");
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new BadRequest("body", "not a JSON object");
        }
        return new JsonObject((Map<String, Object>) map);
    }

    private static UUID uuid(String field, Object value) {
        if (!(value instanceof String s)) {
            throw new BadRequest(field, value == null ? "missing" : "must be a UUID string");
        }
        try {
            UUID id = UUID.fromString(s);
            if (!id.toString().equalsIgnoreCase(s)) {
                throw new IllegalArgumentException();
            }
            return id;
        } catch (IllegalArgumentException e) {
            throw new BadRequest(field, "must be a UUID, got \"" + clip(s) + "\"");
        }
    }

    private static OffsetDateTime timestamp(String field, Object value, Instant latest) {
        if (!(value instanceof String s)) {
            throw new BadRequest(field, value == null ? "missing" : "must be an RFC 3339 string");
        }
        OffsetDateTime t;
        try {
            t = OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        } catch (DateTimeParseException e) {
            throw new BadRequest(field, "must be RFC 3339 with an offset, e.g. 2026-11-27T10:15:03.120+03:00");
        }
        Instant instant = t.toInstant();
        if (instant.isBefore(EARLIEST) || instant.isAfter(latest)) {
            throw new BadRequest(
                    field,
                    "must be between " + EARLIEST + " and " + latest.truncatedTo(ChronoUnit.SECONDS)
                            + " (now + the allowed skew), got \"" + clip(s) + "\"");
        }
        return t;
    }

    private static String text(String field, Object value, int max, boolean required) {
        if (value == null) {
            if (required) {
                throw new BadRequest(field, "missing");
            }
            return null;
        }
        if (!(value instanceof String s)) {
            throw new BadRequest(field, "must be a string");
        }
        if (required && s.isBlank()) {
            throw new BadRequest(field, "must not be empty");
        }
        if (s.length() > max) {
            throw new BadRequest(field, "longer than " + max + " characters");
        }
        String bad = forbidden(s);
        if (bad != null) {
            throw new BadRequest(field, "must not contain " + bad);
        }
        return s;
    }

    /**
     * What in {@code s} cannot be part of a name or a path, described for the answer, or null: a control
     * character (C0 including TAB, CR and LF; DEL; C1), a bidirectional override or isolate, which reorders what
     * follows it on the screen, or a surrogate without its pair, which no encoding can store.
     */
    static String forbidden(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
                return String.format("control character U+%04X", (int) c);
            }
            if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069)) {
                return String.format("bidirectional control U+%04X", (int) c);
            }
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return String.format("lone surrogate U+%04X", (int) c);
            }
        }
        return null;
    }

    private static Long pid(String field, Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < 0) {
            throw new BadRequest(field, "must be a non-negative integer");
        }
        return ((Number) value).longValue();
    }

    private static String clip(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }
}
