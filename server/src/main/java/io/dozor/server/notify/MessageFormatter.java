package io.dozor.server.notify;

import io.dozor.server.model.StoredEvent;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders the notification text, by default {@code [2026-11-27 10:15:03] Пользователь ivanov запустил
 * chrome.exe}. Placeholders: {time} {user} {process} {host} {agent}. One pass over the template, so a
 * user name that itself reads "{process}" stays literal.
 */
public final class MessageFormatter {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{(time|user|process|host|agent)}");
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private final String template;
  private final ZoneId zone;

  public MessageFormatter(String template, ZoneId zone) {
    this.template = template;
    this.zone = zone;
  }

  public String format(StoredEvent event) {
    var e = event.launch();
    Map<String, String> values = Map.of(
        "time", e.timestamp().atZoneSameInstant(zone).format(TIME),
        "user", e.username(),
        "process", e.processName(),
        "host", e.hostname() == null ? "" : e.hostname(),
        "agent", event.agentId());
    Matcher m = PLACEHOLDER.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(values.get(m.group(1))));
    }
    m.appendTail(out);
    return out.toString();
  }
}
