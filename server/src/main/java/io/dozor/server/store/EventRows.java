package io.dozor.server.store;

import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import io.vertx.sqlclient.Row;

/** Reads an event from a row carrying the events columns (see the queries in {@link Sql}). */
public final class EventRows {
  private EventRows() {}

  /** {@code idColumn} names the column holding events.id in this query. */
  public static StoredEvent stored(Row row, String idColumn) {
    var launch = new LaunchEvent(row.getUUID("event_id"), row.getOffsetDateTime("timestamp"),
        row.getString("username"), row.getString("process_name"), row.getLong("pid"),
        row.getString("executable"), row.getString("hostname"));
    return new StoredEvent(row.getLong(idColumn), row.getString("agent_id"), launch);
  }
}
