package io.dozor.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dozor.server.model.LaunchEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EventBatchParserTest {
    static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    static final EventBatchParser PARSER = new EventBatchParser(Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofDays(1));

    static JsonObject event() {
        return new JsonObject()
                .put("event_id", "6f1c2a9e-1b2c-4d5e-8f90-0a1b2c3d4e5f")
                .put("timestamp", "2026-11-27T10:15:03.120+03:00")
                .put("username", "ivanov")
                .put("process_name", "chrome.exe")
                .put("pid", 4312)
                .put("executable", "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe")
                .put("hostname", "PC-01");
    }

    static Buffer batch(JsonObject... events) {
        return new JsonObject()
                .put("events", new JsonArray(List.of((Object[]) events)))
                .toBuffer();
    }

    @Test
    void parsesTheContractExampleIgnoringUnknownFieldsAndBodyAgentId() {
        List<LaunchEvent> events =
                PARSER.parse(batch(event().put("agent_id", "forged").put("extra", 1)));
        assertThat(events)
                .containsExactly(new LaunchEvent(
                        UUID.fromString("6f1c2a9e-1b2c-4d5e-8f90-0a1b2c3d4e5f"),
                        OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"),
                        "ivanov",
                        "chrome.exe",
                        4312L,
                        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
                        "PC-01"));
    }

    /** The bounds of an enrollment key are inclusive; absent or null is no key (an agent of an earlier version). */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "none", textBlock = """
      absent          | none
      22 characters   | abcdefghijklmnopqrstu_
      86 characters   | ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUV
      """)
    void anEnrollmentKeyWithinItsBoundsIsTaken(String what, String key) {
        JsonObject body = new JsonObject().put("hostname", "PC-01").put("os", "Windows 11");
        if (key != null) {
            body.put("enrollment_key", key);
        }
        UUID token = UUID.randomUUID();
        var request = EventBatchParser.enrollment(token, "office", body.toBuffer());
        assertThat(request.enrollmentKey()).isEqualTo(key);
        assertThat(request.toString()).doesNotContain(String.valueOf(key)).contains("PC-01");
        assertThat(EventBatchParser.enrollment(
                                token,
                                "office",
                                Buffer.buffer("{\"hostname\":\"PC-01\",\"os\":\"W\",\"enrollment_key\":null}"))
                        .enrollmentKey())
                .isNull();
    }

    @Test
    void optionalFieldsMayBeAbsent() {
        JsonObject e = event();
        e.remove("pid");
        e.remove("executable");
        e.remove("hostname");
        assertThat(PARSER.parse(batch(e)).get(0).pid()).isNull();
    }

    @Test
    void theContextFieldsOfNewerAgentsAreRead() {
        LaunchEvent e = PARSER.parse(batch(event().put("parent_pid", 812)
                        .put("parent_name", "explorer.exe")
                        .put("user_domain", "CORP")
                        .put("os_type", "windows")
                        .put("os_family", "windows")
                        .put("agent_version", "0.2.0")))
                .get(0);
        assertThat(e.context())
                .isEqualTo(new LaunchEvent.Context(812L, "explorer.exe", "CORP", "windows", "windows", "0.2.0"));
        assertThat(PARSER.parse(batch(event())).get(0).context()).isEqualTo(LaunchEvent.Context.NONE);
    }

    @ParameterizedTest(name = "{0} = {1} is refused")
    @CsvSource(
            delimiter = '|',
            value = {
                "parent_pid|-1|must be a non-negative integer",
                "parent_pid|\"812\"|must be a non-negative integer",
                "parent_pid|1.5|must be a non-negative integer",
                "parent_name|7|must be a string",
                "parent_name|\"  \"|must not be empty (leave the field out when unknown)",
                "parent_name|\"a\\nb\"|must not contain control character U+000A",
                "user_domain|\"\"|must not be empty (leave the field out when unknown)",
                "user_domain|[\"CORP\"]|must be a string",
                "user_domain|\"C\\u202eRP\"|must not contain bidirectional control U+202E",
                "os_type|\"Windows\"|must be one of linux, macos, unix, windows, ios, android, got \"Windows\"",
                "os_type|\"win32\"|must be one of linux, macos, unix, windows, ios, android, got \"win32\"",
                "os_type|true|must be a string",
                "os_family|\"\"|must not be empty (leave the field out when unknown)",
                "agent_version|{}|must be a string",
                "agent_version|\"\"|must not be empty (leave the field out when unknown)"
            })
    void badContextFieldsAreRefusedNamingTheField(String field, String rawJson, String problem) {
        assertThatThrownBy(() -> PARSER.parse(withRawJson(field, rawJson)))
                .isInstanceOf(BadRequest.class)
                .hasMessage("events[0]." + field + ": " + problem);
    }

    @Test
    void contextNamesLongerThanTheLimitAreRefused() {
        for (String field : List.of("parent_name", "user_domain", "os_family", "agent_version")) {
            assertThatThrownBy(() -> PARSER.parse(batch(event().put(field, "x".repeat(EventBatchParser.MAX_NAME + 1)))))
                    .as(field)
                    .isInstanceOf(BadRequest.class)
                    .hasMessage("events[0]." + field + ": longer than " + EventBatchParser.MAX_NAME + " characters");
        }
    }

    @Test
    void hostileButValidStringsAreKeptExactly() {
        // markup, quotes, SQL, an RTL mark (U+200F, not an override), Cyrillic, an emoji (a surrogate pair)
        String name = "ива\u200fnov<b>&\"'; DROP TABLE events;-- 😀 👩‍💻";
        assertThat(PARSER.parse(batch(event().put("username", name))).get(0).username())
                .isEqualTo(name);
        String path = "C:\\Users\\ivanov\\AppData\\Local\\Яндекс\\browser.exe";
        assertThat(PARSER.parse(batch(event().put("executable", path))).get(0).executable())
                .isEqualTo(path);
    }

    /** An event whose {@code field} is the raw JSON string literal {@code literal} (escapes as written). */
    static Buffer withRaw(String field, String literal) {
        return withRawJson(field, "\"" + literal + "\"");
    }

    /** An event whose {@code field} is the raw JSON value {@code json}. */
    static Buffer withRawJson(String field, String json) {
        String marker = "@@RAW@@";
        return Buffer.buffer(new JsonObject()
                .put("events", new JsonArray().add(event().put(field, marker)))
                .encode()
                .replace("\"" + marker + "\"", json));
    }

    @ParameterizedTest(name = "{0} with {1} is refused")
    @CsvSource(
            delimiter = '|',
            value = {
                "username|a\\nforged line|control character U+000A",
                "username|a\\rb|control character U+000D",
                "username|a\\tb|control character U+0009",
                "username|a\\u0000b|control character U+0000",
                "username|a\\u001bb|control character U+001B",
                "username|a\\u007fb|control character U+007F",
                "username|a\\u0085b|control character U+0085",
                "username|a\\u009fb|control character U+009F",
                "username|a\\u202ab|bidirectional control U+202A",
                "username|\\u202eexe.gpj|bidirectional control U+202E",
                "username|a\\u2066b|bidirectional control U+2066",
                "username|a\\u2069b|bidirectional control U+2069",
                "username|a\\ud800|lone surrogate U+D800",
                "username|\\udc00a|lone surrogate U+DC00",
                "username|\\ude00\\ud83d|lone surrogate U+DE00",
                "process_name|chrome\\n.exe|control character U+000A",
                "process_name|\\u202echrome|bidirectional control U+202E",
                "executable|C:\\\\a\\tb.exe|control character U+0009",
                "executable|C:\\\\\\ud800.exe|lone surrogate U+D800",
                "hostname|PC\\r\\n01|control character U+000D",
                "hostname|PC\\u20680|bidirectional control U+2068",
            })
    void controlBidiAndLoneSurrogatesAreRefusedNamingTheField(String field, String literal, String problem) {
        assertThatThrownBy(() -> PARSER.parse(withRaw(field, literal)))
                .isInstanceOf(BadRequest.class)
                .hasMessage("events[0]." + field + ": must not contain " + problem);
    }

    @Test
    void heartbeatStringsAreCheckedTheSameWay() {
        assertThatThrownBy(() -> EventBatchParser.heartbeat(
                        "pc-01", Buffer.buffer("{\"version\":\"1\\n[fake] line\",\"hostname\":\"PC-01\"}")))
                .hasMessage("version: must not contain control character U+000A");
        assertThatThrownBy(() -> EventBatchParser.heartbeat(
                        "pc-01", Buffer.buffer("{\"version\":\"1\",\"hostname\":\"PC\\udbff\"}")))
                .hasMessage("hostname: must not contain lone surrogate U+DBFF");
        assertThatThrownBy(() -> EventBatchParser.heartbeat(
                        "pc-01", Buffer.buffer("{\"version\":\"1\",/* x */\"hostname\":\"PC\"}")))
                .hasMessage("body: comments are not JSON");
    }

    @ParameterizedTest(name = "timestamp {0} is refused")
    @CsvSource({
        "1999-12-31T23:59:59.999Z",
        "2000-01-01T02:59:59+03:00",
        "1970-01-01T00:00:00Z",
        "2026-12-02T12:00:00.001Z",
        "2026-12-02T23:00:00+10:00",
        "2027-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "+294277-01-01T00:00:00Z",
        "+999999999-12-31T23:59:59-18:00",
        "-999999999-01-01T00:00:00+18:00",
    })
    void timestampsOutsideTheWindowAreRefusedNamingTheField(String timestamp) {
        assertThatThrownBy(() -> PARSER.parse(batch(event(), event().put("timestamp", timestamp))))
                .isInstanceOf(BadRequest.class)
                .hasMessageStartingWith(
                        "events[1].timestamp: must be between 2000-01-01T00:00:00Z and 2026-12-02T12:00:00Z");
    }

    @ParameterizedTest(name = "timestamp {0} is accepted")
    @CsvSource({
        "2000-01-01T00:00:00Z",
        "2000-01-01T03:00:00+03:00",
        "2026-12-02T12:00:00Z",
        "2026-12-02T22:00:00+10:00",
        "2026-12-01T12:00:00Z",
    })
    void timestampsAtTheEdgesOfTheWindowAreAccepted(String timestamp) {
        assertThat(PARSER.parse(batch(event().put("timestamp", timestamp)))
                        .get(0)
                        .timestamp())
                .isEqualTo(OffsetDateTime.parse(timestamp));
    }

    @Test
    void theWindowMovesWithTheClockAndTheSkew() {
        var later = new EventBatchParser(Clock.fixed(NOW.plus(Duration.ofDays(30)), ZoneOffset.UTC), Duration.ZERO);
        assertThat(later.parse(batch(event().put("timestamp", "2026-12-31T12:00:00Z"))))
                .hasSize(1);
        assertThatThrownBy(() -> later.parse(batch(event().put("timestamp", "2026-12-31T12:00:00.001Z"))))
                .hasMessageStartingWith("events[0].timestamp: must be between");
    }

    @ParameterizedTest(name = "{0} = {1} is refused")
    @CsvSource(
            delimiter = '|',
            value = {
                "event_id|not-a-uuid|events[0].event_id: must be a UUID, got \"not-a-uuid\"",
                "event_id||events[0].event_id: missing",
                "timestamp|2026-11-27 10:15:03|events[0].timestamp: must be RFC 3339 with an offset, e.g. 2026-11-27T10:15:03.120+03:00",
                "timestamp|2026-11-27T10:15:03|events[0].timestamp: must be RFC 3339 with an offset, e.g. 2026-11-27T10:15:03.120+03:00",
                "username||events[0].username: missing",
                "username|'  '|events[0].username: must not be empty",
                "process_name||events[0].process_name: missing",
            })
    void badFieldsAreNamed(String field, String value, String message) {
        JsonObject e = event();
        if (value == null) {
            e.remove(field);
        } else {
            e.put(field, value);
        }
        assertThatThrownBy(() -> PARSER.parse(batch(event(), e)))
                .isInstanceOf(BadRequest.class)
                .hasMessage(message.replace("[0]", "[1]"));
    }

    @Test
    void wrongTypesAndLimitsAreRefused() {
        assertThatThrownBy(() -> PARSER.parse(batch(event().put("pid", "12"))))
                .hasMessage("events[0].pid: must be a non-negative integer");
        assertThatThrownBy(() -> PARSER.parse(batch(event().put("pid", -1))))
                .hasMessage("events[0].pid: must be a non-negative integer");
        assertThatThrownBy(() -> PARSER.parse(batch(event().put("username", 7))))
                .hasMessage("events[0].username: must be a string");
        assertThatThrownBy(() -> PARSER.parse(batch(event().put("username", "x".repeat(257)))))
                .hasMessage("events[0].username: longer than 256 characters");
        assertThatThrownBy(() -> PARSER.parse(batch(event().put("hostname", "a\0b"))))
                .hasMessage("events[0].hostname: must not contain control character U+0000");
    }

    /** A body whose extra field {@code x} is {@code levels} nested arrays: the root is level 1, x's arrays below. */
    static String nested(int levels) {
        return "{\"events\": [" + event().encode() + "], \"x\": " + "[".repeat(levels - 1) + "]".repeat(levels - 1)
                + "}";
    }

    @Test
    void nestingBeyondTheLimitIsRefusedByTheParser() {
        assertThat(PARSER.parse(Buffer.buffer(nested(16)))).hasSize(1);
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer(nested(17))))
                .hasMessage("body: JSON nested deeper than 16 levels");
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer(nested(900))))
                .hasMessage("body: JSON nested deeper than 16 levels");
        String bracketsInStrings = "{\"events\": ["
                + event().put("username", "[[[[[[[[[[[[[[[[[[\\\"{{{{").encode() + "]}";
        assertThat(PARSER.parse(Buffer.buffer(bracketsInStrings))).hasSize(1);
    }

    @Test
    void commentsAreNotJsonSoTheyCannotHideNesting() {
        // seen: 900 levels between comments holding a quote passed a byte scan that counted brackets outside strings
        String hidden = "{\"events\": [" + event().encode() + "], \"x\": /*\"*/ " + "[".repeat(900) + "]".repeat(900)
                + " /*\"*/}";
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer(hidden))).hasMessage("body: comments are not JSON");
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer("{\"events\": [" + event().encode() + "] // x\n}")))
                .hasMessage("body: comments are not JSON");
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer("{\"events\": [" + event().encode() + "] # x\n}")))
                .isInstanceOf(BadRequest.class)
                .hasMessageStartingWith("body: ");
    }

    @Test
    void jsonExtensionsDuplicateKeysAndTrailingDataAreRefused() {
        String e = event().encode();
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer("{\"events\": [" + e + "], \"events\": []}")))
                .hasMessage("body: duplicate key events");
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer(
                        "{\"events\": [" + e.replace("\"username\"", "\"username\": \"x\", \"username\"") + "]}")))
                .hasMessage("body: duplicate key username");
        for (String bad : List.of(
                "{\"events\": [" + e + "]} {}",
                "{\"events\": [" + e + ",]}",
                "{'events': [" + e + "]}",
                "{events: [" + e + "]}",
                "{\"events\": [" + e + "], \"n\": NaN}",
                "{\"events\": [" + e + "]} x")) {
            assertThatThrownBy(() -> PARSER.parse(Buffer.buffer(bad)))
                    .as(bad)
                    .isInstanceOf(BadRequest.class)
                    .hasMessage("body: not a JSON object");
        }
        byte[] invalidUtf8 =
                ("{\"events\": [" + e.replace("ivanov", "iva\u0001nov") + "]}").getBytes(StandardCharsets.UTF_8);
        invalidUtf8[new String(invalidUtf8, StandardCharsets.UTF_8).indexOf('\u0001')] = (byte) 0xC3;
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer(invalidUtf8))).hasMessage("body: not a JSON object");
    }

    @Test
    void bodyShapeErrorsAreNamed() {
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer("")))
                .hasMessage("body: empty; expected {\"events\": [...]}");
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer("{\"events\": ["))).hasMessage("body: not a JSON object");
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer("[1]"))).hasMessage("body: not a JSON object");
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer("{\"events\": {}}")))
                .hasMessage("events: must be an array");
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer("{\"events\": []}")))
                .hasMessage("events: must not be empty");
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer("{\"events\": [1]}")))
                .hasMessage("events[0]: must be an object");
        JsonObject[] tooMany = new JsonObject[EventBatchParser.MAX_EVENTS + 1];
        java.util.Arrays.fill(tooMany, event());
        assertThatThrownBy(() -> PARSER.parse(batch(tooMany)))
                .hasMessage("events: at most 1000 events per batch, got 1001");
    }
}
