package io.dozor.server.index;

import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A launch as an Elasticsearch document with ECS field names; {@code _id} is the event id. */
final class EcsDocument {
  private static final DateTimeFormatter MONTH = DateTimeFormatter.ofPattern("yyyy.MM");

  private EcsDocument() {}

  /** Monthly indices; an event always maps to the same index, so re-indexing overwrites, never doubles. */
  static String index(String prefix, StoredEvent event) {
    return prefix + "-" + event.launch().timestamp().withOffsetSameInstant(ZoneOffset.UTC).format(MONTH);
  }

  static Map<String, Object> of(StoredEvent stored) {
    LaunchEvent e = stored.launch();
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("@timestamp", e.timestamp().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    doc.put("event", Map.of(
        "id", e.eventId().toString(),
        "kind", "event",
        "category", List.of("process"),
        "type", List.of("start"),
        "action", "process-started"));
    doc.put("user", Map.of("name", e.username()));
    Map<String, Object> process = new LinkedHashMap<>();
    process.put("name", e.processName());
    if (e.pid() != null) {
      process.put("pid", e.pid());
    }
    if (e.executable() != null) {
      process.put("executable", e.executable());
    }
    doc.put("process", process);
    if (e.hostname() != null) {
      doc.put("host", Map.of("name", e.hostname()));
    }
    doc.put("agent", Map.of("id", stored.agentId()));
    return doc;
  }
}
