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
        LaunchEvent event = event(
                OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"),
                "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe");

        String json = json(event);

        assertThat(json)
                .isEqualTo("{\"event_id\":\"6f1c2a4e-8b1d-4c3e-9f00-123456789abc\","
                        + "\"timestamp\":\"2026-11-27T10:15:03.120+03:00\",\"username\":\"ivanov\","
                        + "\"process_name\":\"chrome.exe\",\"pid\":4312,"
                        + "\"executable\":\"C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe\","
                        + "\"hostname\":\"PC-01\"}");
    }

    @Test
    void charactersTheServerRefusesAreSentAsReplacementCharactersKeepingTheRest() throws Exception {
        LaunchEvent event = new LaunchEvent(
                ID,
                OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"),
                "iva\nnov\u0085",
                "invoice\u202Efdp.exe",
                4312,
                "/tmp/a\tb/\ud800x\u2066.exe 😀",
                "PC\r01");

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
    void theContextIsWrittenWithItsWireNamesAndReadBack() throws Exception {
        ProcessInfo process = new ProcessInfo(
                4312, Instant.parse("2026-11-27T07:15:03.120Z"), "chrome.exe", "C:\\chrome.exe", "CORP\\ivanov", 812);
        LaunchEvent event = LaunchEvent.of(
                process,
                "explorer.exe",
                ZoneOffset.UTC,
                "PC-01",
                LaunchEvent.Context.ofAgent(HostOs.of("Windows 11", null), "0.1.0"));

        var node = JSON.readTree(json(event));

        assertThat(node.get("username").asText()).isEqualTo("ivanov");
        assertThat(node.get("user_domain").asText()).isEqualTo("CORP");
        assertThat(node.get("parent_pid").asLong()).isEqualTo(812);
        assertThat(node.get("parent_name").asText()).isEqualTo("explorer.exe");
        assertThat(node.get("os_type").asText()).isEqualTo("windows");
        assertThat(node.get("os_family").asText()).isEqualTo("windows");
        assertThat(node.get("agent_version").asText()).isEqualTo("0.1.0");
        assertThat(EventJson.read(EventJson.event(event))).isEqualTo(event);
    }

    @Test
    void unknownContextIsLeftOutSoOldServersAndTheParserSeeNoEmptyFields() throws Exception {
        ProcessInfo process =
                new ProcessInfo(4312, Instant.parse("2026-11-27T07:15:03.120Z"), "chrome", null, "ivanov", -1);
        String json = json(LaunchEvent.of(
                process, null, ZoneOffset.UTC, "pc-01", LaunchEvent.Context.ofAgent(new HostOs(null, null), "0.1.0")));

        assertThat(JSON.readTree(json).fieldNames())
                .toIterable()
                .containsExactlyInAnyOrder(
                        "event_id", "timestamp", "username", "process_name", "pid", "hostname", "agent_version");
    }

    @Test
    void theDomainIsWhatComesBeforeTheLastBackslash() {
        assertThat(LaunchEvent.userDomain("CORP\\ivanov")).isEqualTo("CORP");
        assertThat(LaunchEvent.userDomain("NT AUTHORITY\\SYSTEM")).isEqualTo("NT AUTHORITY");
        assertThat(LaunchEvent.userDomain("ivanov")).isNull();
        assertThat(LaunchEvent.userDomain("\\ivanov")).isNull();
        assertThat(LaunchEvent.userDomain(null)).isNull();
    }

    @Test
    void theParentNameComesFromTheSnapshotUnlessThePidWasReused() {
        Instant t = Instant.parse("2026-11-27T07:15:03Z");
        ProcessInfo child = new ProcessInfo(20, t, "chrome.exe", null, "ivanov", 10);
        ProcessInfo parent = new ProcessInfo(10, t.minusSeconds(5), "explorer.exe", null, "ivanov", 1);
        ProcessInfo reused = new ProcessInfo(10, t.plusSeconds(5), "notepad.exe", null, "ivanov", 1);

        assertThat(Agent.parentName(child, List.of(parent, child))).isEqualTo("explorer.exe");
        assertThat(Agent.parentName(child, List.of(reused, child))).isNull();
        assertThat(Agent.parentName(child, List.of(child))).isNull();
        assertThat(Agent.parentName(new ProcessInfo(20, t, "a", null, "u", -1), List.of(parent)))
                .isNull();
    }

    @Test
    void theHostOsIsNamedAsEcsExpects(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path release = dir.resolve("os-release");
        java.nio.file.Files.writeString(release, "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=\"debian other\"\n");
        assertThat(HostOs.of("Linux", release)).isEqualTo(new HostOs("linux", "debian"));
        java.nio.file.Files.writeString(release, "ID=\"fedora\"\n");
        assertThat(HostOs.of("Linux", release)).isEqualTo(new HostOs("linux", "fedora"));
        assertThat(HostOs.of("Linux", dir.resolve("absent"))).isEqualTo(new HostOs("linux", null));
        assertThat(HostOs.of("Windows Server 2022", release)).isEqualTo(new HostOs("windows", "windows"));
        assertThat(HostOs.of("Mac OS X", release)).isEqualTo(new HostOs("macos", "darwin"));
        assertThat(HostOs.of("FreeBSD", release)).isEqualTo(new HostOs(null, null));
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
        ProcessInfo process = new ProcessInfo(
                4312,
                Instant.parse("2026-11-27T07:15:03.120456789Z"),
                "chrome.exe",
                "C:\\chrome.exe",
                "CORP\\ivanov",
                100);

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
        LaunchEvent read =
                EventJson.read(("{\"event_id\":\"" + ID + "\",\"timestamp\":\"2026-11-27T10:15:03.120+03:00\","
                                + "\"later\":{\"a\":[1,2]},\"username\":\"ivanov\",\"process_name\":\"chrome.exe\",\"pid\":4312,"
                                + "\"hostname\":\"PC-01\"}")
                        .getBytes(StandardCharsets.UTF_8));

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
                .as(json)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(reason);
    }
}
