package io.dozor.server.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MessageFormatterTest {
    static final String DEFAULT = "[{time}] Пользователь {user} запустил {process}";

    static StoredEvent launch(String user, String process, String time) {
        return new StoredEvent(
                1,
                "agent-1",
                new LaunchEvent(UUID.randomUUID(), OffsetDateTime.parse(time), user, process, 1L, null, "PC-01"));
    }

    @Test
    void defaultTextIsExactlyTheContractOne() {
        var formatter = new MessageFormatter(DEFAULT, ZoneId.of("Europe/Moscow"));
        assertThat(formatter.format(launch("ivanov", "chrome.exe", "2026-11-27T10:15:03.120+03:00")))
                .isEqualTo("[2026-11-27 10:15:03] Пользователь ivanov запустил chrome.exe");
    }

    @Test
    void timeIsShownInTheConfiguredZone() {
        var formatter = new MessageFormatter(DEFAULT, ZoneId.of("Asia/Yekaterinburg"));
        assertThat(formatter.format(launch("ivanov", "chrome.exe", "2026-11-27T07:15:03Z")))
                .isEqualTo("[2026-11-27 12:15:03] Пользователь ivanov запустил chrome.exe");
    }

    @Test
    void namesThatLookLikePlaceholdersOrMarkupStayLiteral() {
        var formatter = new MessageFormatter(DEFAULT + " on {host}", ZoneId.of("UTC"));
        assertThat(formatter.format(launch("{process} $1 \\", "<b>&amp;</b>", "2026-11-27T10:15:03Z")))
                .isEqualTo("[2026-11-27 10:15:03] Пользователь {process} $1 \\ запустил <b>&amp;</b> on PC-01");
    }

    /** What PostgreSQL can hold: 'infinity' and '-infinity' (read as OffsetDateTime.MAX / MIN) and its extreme years. */
    static final List<OffsetDateTime> EXTREMES = List.of(
            OffsetDateTime.MAX,
            OffsetDateTime.MIN,
            OffsetDateTime.parse("+294276-12-31T23:59:59.999999Z"),
            OffsetDateTime.parse("-4713-11-24T00:00:00Z"),
            OffsetDateTime.parse("9999-12-31T23:59:59-18:00"));

    @Test
    void extremeButStorableTimesAreFormattedWithoutThrowing() {
        var formatter = new MessageFormatter(DEFAULT, ZoneId.of("Europe/Moscow"));
        for (OffsetDateTime time : EXTREMES) {
            StoredEvent event = new StoredEvent(
                    1, "agent-1", new LaunchEvent(UUID.randomUUID(), time, "ivanov", "a.exe", null, null, null));
            assertThat(formatter.format(event)).as(time.toString()).endsWith("] Пользователь ivanov запустил a.exe");
            assertThat(formatter.digest(List.of(event, launch("petrov", "b.exe", "2026-11-27T10:15:03Z"))))
                    .as(time.toString())
                    .startsWith("2 запуска за ");
        }
        assertThat(formatter.format(new StoredEvent(
                        1, "a", new LaunchEvent(UUID.randomUUID(), OffsetDateTime.MAX, "u", "p", null, null, null))))
                .startsWith("[+999999999-12-31 23:59:59]");
    }
}
