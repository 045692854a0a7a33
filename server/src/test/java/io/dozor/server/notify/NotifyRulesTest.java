package io.dozor.server.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import io.dozor.server.rules.Durations;
import io.dozor.server.rules.Filters;
import io.dozor.server.rules.QuietHours;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Verifies the pure rules behind notifications: filters, quiet hours, durations, splitting, limits, digests. */
class NotifyRulesTest {
    static StoredEvent launch(String user, String process, String agent, String host) {
        return new StoredEvent(
                1,
                agent,
                new LaunchEvent(
                        UUID.randomUUID(),
                        OffsetDateTime.parse("2026-11-27T10:15:03+03:00"),
                        user,
                        process,
                        1L,
                        "C:\\x",
                        host));
    }

    static Filters filters(String yaml) throws Exception {
        return Filters.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml));
    }

    @Test
    void filtersMatchGlobsAndRegexesCaseInsensitivelyOnEveryField() throws Exception {
        Filters f = filters("""
        include: {process: ["chrome.exe", "re:^tele"]}
        exclude: {user: ["guest?"], agent: [kiosk-*], host: ["re:\\\\d{3}$"]}
        """);
        assertThat(f.passes(launch("ivanov", "CHROME.EXE", "pc-01", "PC-01"))).isTrue();
        assertThat(f.passes(launch("ivanov", "Telegram.exe", "pc-01", "PC-01"))).isTrue();
        assertThat(f.passes(launch("ivanov", "notchrome.exe", "pc-01", "PC-01")))
                .as("globs match whole names")
                .isFalse();
        assertThat(f.passes(launch("Guest1", "chrome.exe", "pc-01", "PC-01"))).isFalse();
        assertThat(f.passes(launch("ivanov", "chrome.exe", "KIOSK-3", "PC-01"))).isFalse();
        assertThat(f.passes(launch("ivanov", "chrome.exe", "pc-01", "PC-123"))).isFalse();
    }

    @Test
    void systemAccountsAndProcessesAreExcludedByDefaultOnly() throws Exception {
        for (String user :
                List.of("SYSTEM", "NT AUTHORITY\\NETWORK SERVICE", "local service", "PC-01$", "DWM-1", "UMFD-0")) {
            assertThat(Filters.DEFAULT.passes(launch(user, "chrome.exe", "a", "h")))
                    .as(user)
                    .isFalse();
        }
        assertThat(Filters.DEFAULT.passes(launch("ivanov", "svchost.exe", "a", "h")))
                .isFalse();
        assertThat(Filters.DEFAULT.passes(launch("ivanov", "chrome.exe", "a", null)))
                .isTrue();
        assertThat(filters("exclude_system: false").passes(launch("SYSTEM", "svchost.exe", "a", "h")))
                .isTrue();
    }

    @Test
    void badFiltersAreRefusedNamingTheKey() {
        assertThatThrownBy(() -> filters("include: {process: [\"re:(\"]}"))
                .hasMessageStartingWith("telegram.filters.include.process: bad regular expression");
        assertThatThrownBy(() -> filters("include: {program: [x]}"))
                .hasMessageContaining("telegram.filters.include.program");
        assertThatThrownBy(() -> filters("exlude: {user: [x]}"))
                .hasMessageContaining("telegram.filters.exlude: unknown");
        assertThatThrownBy(() -> filters("exclude_system: maybe")).hasMessageContaining("true or false");
        assertThatThrownBy(() -> filters("include: {user: [{a: 1}]}")).hasMessageContaining("strings");
        assertThatThrownBy(() -> filters("include: {user: [\"\"]}")).hasMessageContaining("empty pattern");
        assertThatThrownBy(() -> filters("[1, 2]")).hasMessageContaining("must be a mapping");
        assertThatThrownBy(() -> FiltersWatcher.fromYaml("telegram: [unclosed".getBytes()))
                .hasMessageStartingWith("unreadable YAML");
    }

    @Test
    void quietHoursArePerChatTimeZoneAwareAndCrossMidnight() {
        ZoneId moscow = ZoneId.of("Europe/Moscow");
        QuietHours q = QuietHours.parse(List.of("23:00-07:00", "-100=12:00:00-12:00:30"));
        Instant lateEvening = Instant.parse("2026-11-27T20:30:00Z"); // 23:30 in Moscow
        assertThat(q.quietUntil(42, lateEvening, moscow)).contains(Instant.parse("2026-11-28T04:00:00Z"));
        assertThat(q.quietUntil(42, Instant.parse("2026-11-28T03:59:59Z"), moscow))
                .isPresent();
        assertThat(q.quietUntil(42, Instant.parse("2026-11-28T04:00:00Z"), moscow))
                .isEmpty();
        assertThat(q.quietUntil(42, lateEvening, ZoneOffset.UTC))
                .as("20:30 UTC is not quiet")
                .isEmpty();
        assertThat(q.quietUntil(-100, lateEvening, moscow))
                .as("the chat's own window replaces the general one")
                .isEmpty();
        assertThat(q.quietUntil(-100, Instant.parse("2026-11-27T09:00:10Z"), moscow))
                .contains(Instant.parse("2026-11-27T09:00:30Z"));
    }

    @Test
    void badQuietHoursAreRefused() {
        for (String bad : List.of("23:00", "25:00-07:00", "x=01:00-02:00", "07:00-07:00", "1-2-3")) {
            assertThatThrownBy(() -> QuietHours.parse(List.of(bad)))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> QuietHours.parse(List.of("01:00-02:00", "03:00-04:00")))
                .hasMessageContaining("more than one");
    }

    @Test
    void durationsParseTheUsualFormsAndRefuseTheRest() {
        assertThat(Durations.parse("90s")).contains(Duration.ofSeconds(90));
        assertThat(Durations.parse("1h30m")).contains(Duration.ofMinutes(90));
        assertThat(Durations.parse("2D")).contains(Duration.ofDays(2));
        assertThat(Durations.parse("500ms")).contains(Duration.ofMillis(500));
        assertThat(Durations.parse("15")).contains(Duration.ofSeconds(15));
        assertThat(Durations.parse("315360000")).contains(Duration.ofDays(3650));
        for (String bad : List.of("", "h", "-5m", "1.5h", "5x", "99999999d", "1h 30m", "999999999", "315360001")) {
            assertThat(Durations.parse(bad)).as(bad).isEmpty();
        }
        assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
    }

    @Test
    void longTextsAreSplitUnderTheLimitWithoutBreakingEmoji() {
        String emoji = "😀".repeat(3000); // 6000 UTF-16 units, no spaces
        List<String> parts = TextSplitter.split(emoji, 4096);
        assertThat(parts).hasSize(2).allSatisfy(p -> assertThat(p.length()).isLessThanOrEqualTo(4096));
        assertThat(String.join("", parts)).isEqualTo(emoji);
        assertThat(Character.isHighSurrogate(parts.get(0).charAt(parts.get(0).length() - 1)))
                .isFalse();
        String words = ("слово ").repeat(1000).trim();
        List<String> wordParts = TextSplitter.split(words, 4096);
        assertThat(String.join(" ", wordParts)).isEqualTo(words);
        assertThat(TextSplitter.split("short", 4096)).containsExactly("short");
    }

    @Test
    void rateLimiterSpacesMessagesPerChatPerGroupAndOverall() {
        Clock fixed = Clock.fixed(Instant.parse("2026-11-27T10:00:00Z"), ZoneOffset.UTC);
        RateLimiter limiter = new RateLimiter(fixed);
        assertThat(limiter.reserve(42)).isZero();
        assertThat(limiter.reserve(42)).isEqualTo(Duration.ofSeconds(1));
        assertThat(limiter.reserve(-100))
                .as("another chat, 34 ms after the last send overall")
                .isEqualTo(Duration.ofMillis(34));
        assertThat(limiter.reserve(-100)).as("a group: 20 a minute").isEqualTo(Duration.ofMillis(3034));
        limiter.pause(7, Duration.ofSeconds(5));
        assertThat(limiter.reserve(7)).isEqualTo(Duration.ofSeconds(5));
        RateLimiter busy = new RateLimiter(fixed);
        for (int chat = 1; chat <= 60; chat++) {
            busy.reserve(chat);
        }
        assertThat(busy.reserve(61)).as("30 a second overall").isGreaterThanOrEqualTo(Duration.ofMillis(60 * 34));
    }

    @Test
    void digestCountsPairsMostFirstWithTheSpanAndRussianPlural() {
        var f = new MessageFormatter("[{time}] {user} {process}", ZoneId.of("Europe/Moscow"));
        StoredEvent a = launch("ivanov", "chrome.exe", "a", "h");
        StoredEvent b = new StoredEvent(
                2,
                "a",
                new LaunchEvent(
                        UUID.randomUUID(),
                        OffsetDateTime.parse("2026-11-27T10:20:59+03:00"),
                        "petrov",
                        "explorer.exe",
                        1L,
                        null,
                        null));
        assertThat(f.digest(List.of(b, a, b)))
                .isEqualTo("3 запуска за 10:15–10:20: petrov — explorer.exe ×2, ivanov — chrome.exe ×1");
        assertThat(List.of(1, 2, 5, 11, 21, 22, 112).stream()
                        .map(n -> n + " " + MessageFormatter.launches(n))
                        .toList())
                .containsExactly(
                        "1 запуск",
                        "2 запуска",
                        "5 запусков",
                        "11 запусков",
                        "21 запуск",
                        "22 запуска",
                        "112 запусков");
    }
}
