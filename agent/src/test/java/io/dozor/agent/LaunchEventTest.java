package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class LaunchEventTest {

    private static final UUID ID = UUID.fromString("6f1c2a4e-8b1d-4c3e-9f00-123456789abc");

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String json(LaunchEvent event) {
        return new String(EventJson.event(event), StandardCharsets.UTF_8);
    }

    private static LaunchEvent event(OffsetDateTime timestamp, String executable) {
        return new LaunchEvent(ID, timestamp, "ivanov", "chrome.exe", 4312, executable, "PC-01");
    }

    @Test
    void serialisesWithTheContractFieldNamesAndTimestampFormat() throws Exception {
        LaunchEvent event = event(OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"),
                "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe");

        String json = json(event);

        assertThat(json).isEqualTo("{\"event_id\":\"6f1c2a4e-8b1d-4c3e-9f00-123456789abc\","
                + "\"timestamp\":\"2026-11-27T10:15:03.120+03:00\",\"username\":\"ivanov\","
                + "\"process_name\":\"chrome.exe\",\"pid\":4312,"
                + "\"executable\":\"C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe\","
                + "\"hostname\":\"PC-01\"}");
    }

    @Test
    void charactersTheServerRefusesAreSentAsReplacementCharactersKeepingTheRest() throws Exception {
        LaunchEvent event = new LaunchEvent(ID, OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"),
                "iva\nnov\u0085", "invoice\u202Efdp.exe", 4312, "/tmp/a\tb/\ud800x\u2066.exe 😀", "PC\r01");

        var node = JSON.readTree(json(event));

        assertThat(node.get("username").asText()).isEqualTo("iva\uFFFDnov\uFFFD");
        assertThat(node.get("process_name").asText()).isEqualTo("invoice\uFFFDfdp.exe");
        assertThat(node.get("executable").asText()).isEqualTo("/tmp/a\uFFFDb/\uFFFDx\uFFFD.exe 😀");
        assertThat(node.get("hostname").asText()).isEqualTo("PC\uFFFD01");
        String fine = "C:\\Users\\Иванов\\\u200Fapp 👩‍💻.exe";
        assertThat(EventJson.visible(fine)).isSameAs(fine);
    }

    @Test
    void timestampAlwaysHasMillisecondsAndANumericOffset() throws Exception {
        String json = json(event(OffsetDateTime.of(2026, 11, 27, 7, 15, 3, 0, ZoneOffset.UTC), "x"));

        assertThat(json).contains("\"timestamp\":\"2026-11-27T07:15:03.000+00:00\"");
    }

    @Test
    void anUnknownExecutableIsLeftOut() throws Exception {
        String json = json(event(OffsetDateTime.now(), null));

        assertThat(json).doesNotContain("executable");
    }

    @Test
    void readsBackWhatItWrites() throws Exception {
        LaunchEvent event = event(OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"), "C:\\chrome.exe");

        LaunchEvent read = EventJson.read(EventJson.event(event));

        assertThat(read).isEqualTo(event);
    }

    @Test
    void aBatchIsAnObjectWithAnEventsArray() throws Exception {
        LaunchEvent event = event(OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"), "x");

        String json = new String(EventJson.batch(List.of(event, event)), StandardCharsets.UTF_8);

        assertThat(JSON.readTree(json).fieldNames()).toIterable().containsExactly("events");
        assertThat(JSON.readTree(json).get("events")).hasSize(2);
        assertThat(JSON.readTree(json).get("events").get(1)).isEqualTo(JSON.readTree(json(event)));
    }

    @Test
    void anEventOfADetectedProcessCarriesItsStartTimeInTheZoneNotTheDetectionTime() {
        ProcessInfo process = new ProcessInfo(4312, Instant.parse("2026-11-27T07:15:03.120456789Z"), "chrome.exe",
                "C:\\chrome.exe", "CORP\\ivanov", 100);

        LaunchEvent a = LaunchEvent.of(process, ZoneId.of("Europe/Moscow"), "PC-01");
        LaunchEvent b = LaunchEvent.of(process, ZoneId.of("Europe/Moscow"), "PC-01");

        assertThat(LaunchEvent.TIMESTAMP_FORMAT.format(a.timestamp())).isEqualTo("2026-11-27T10:15:03.120+03:00");
        assertThat(a.username()).isEqualTo("ivanov");
        assertThat(a.processName()).isEqualTo("chrome.exe");
        assertThat(a.pid()).isEqualTo(4312);
        assertThat(a.executable()).isEqualTo("C:\\chrome.exe");
        assertThat(a.hostname()).isEqualTo("PC-01");
        assertThat(a.eventId()).isNotEqualTo(b.eventId());
    }

    @Test
    void readsAnEventWithoutAnExecutableAndSkipsFieldsItDoesNotKnow() {
        LaunchEvent read = EventJson.read(("{\"event_id\":\"" + ID + "\",\"timestamp\":\"2026-11-27T10:15:03.120+03:00\","
                + "\"later\":{\"a\":[1,2]},\"username\":\"ivanov\",\"process_name\":\"chrome.exe\",\"pid\":4312,"
                + "\"hostname\":\"PC-01\"}").getBytes(StandardCharsets.UTF_8));

        assertThat(read).isEqualTo(event(OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"), null));
    }

    @Test
    void whatIsNotAnEventIsRefusedWithTheReason() {
        String good = json(event(OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"), "x"));
        assertRefused("", "expected an object");
        assertRefused("{\"event_id\":", "not JSON");
        assertRefused("[]", "expected an object");
        assertRefused(good.replace(",\"hostname\":\"PC-01\"", ""), "needs event_id, timestamp");
        assertRefused(good.replace("\"pid\":4312", "\"pid\":\"4312\""), "an integer pid");
        assertRefused(good.replace("\"ivanov\"", "7"), "a string for username");
        assertRefused(good.replace(ID.toString(), "not-a-uuid"), "UUID");
        assertRefused(good.replace("2026-11-27T10:15:03.120+03:00", "yesterday"), "bad timestamp");
    }

    private static void assertRefused(String json, String reason) {
        assertThatThrownBy(() -> EventJson.read(json.getBytes(StandardCharsets.UTF_8)))
                .as(json).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason);
    }
}
