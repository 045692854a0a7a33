package io.dozor.server.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MessageFormatterTest {
  static final String DEFAULT = "[{time}] Пользователь {user} запустил {process}";

  static StoredEvent launch(String user, String process, String time) {
    return new StoredEvent(1, "agent-1", new LaunchEvent(UUID.randomUUID(), OffsetDateTime.parse(time), user, process,
        1L, null, "PC-01"));
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
}
