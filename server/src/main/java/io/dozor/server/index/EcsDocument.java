package io.dozor.server.index;

import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A launch as an Elasticsearch document with ECS field names; {@code _id} is the event id. */
final class EcsDocument {
  private static final DateTimeFormatter MONTH = DateTimeFormatter.ofPattern("yyyy.MM");

  private EcsDocument() {}

  /** The instants whose UTC date has a 4-digit year: what the index names and ES's date format are made for. */
  private static final Instant FIRST = Instant.parse("0000-01-01T00:00:00Z");
  private static final Instant LAST = Instant.parse("9999-12-31T23:59:59.999999999Z");

  /** Monthly indices; an event always maps to the same index, so re-indexing overwrites, never doubles. */
  static String index(String prefix, StoredEvent event) {
    return prefix + "-" + utc(event.launch().timestamp()).format(MONTH);
  }

  /**
   * Why this event cannot be indexed, if it cannot: a launch time outside the years 0000–9999 (which
   * PostgreSQL can hold, e.g. 'infinity' or year 294276, but a monthly index name and Elasticsearch's
   * date format cannot).
   */
  static Optional<String> unindexable(StoredEvent event) {
    Instant at = event.launch().timestamp().toInstant();
    if (at.isBefore(FIRST) || at.isAfter(LAST)) {
      return Optional.of("timestamp " + event.launch().timestamp() + " is outside the years 0000-9999 that "
          + "Elasticsearch's date field and the monthly index names take");
    }
    return Optional.empty();
  }

  /**
   * The time in UTC, without throwing for any OffsetDateTime (OffsetDateTime.MAX, which is how
   * PostgreSQL's 'infinity' reads, is past the last UTC date-time): clamped to the UTC range.
   */
  static OffsetDateTime utc(OffsetDateTime time) {
    Instant at = time.toInstant();
    if (at.isAfter(UTC_MAX)) {
      return OffsetDateTime.MAX.withOffsetSameLocal(ZoneOffset.UTC);
    }
    if (at.isBefore(UTC_MIN)) {
      return OffsetDateTime.MIN.withOffsetSameLocal(ZoneOffset.UTC);
    }
    return time.withOffsetSameInstant(ZoneOffset.UTC);
  }

  private static final Instant UTC_MAX = LocalDateTime.MAX.toInstant(ZoneOffset.UTC);
  private static final Instant UTC_MIN = LocalDateTime.MIN.toInstant(ZoneOffset.UTC);

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
