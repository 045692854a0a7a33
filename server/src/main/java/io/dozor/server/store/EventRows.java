package io.dozor.server.store;

import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import io.vertx.sqlclient.Row;

/** Reads an event from a row carrying the events columns (see the queries in {@link Sql}). */
public final class EventRows {
    private EventRows() {}

    /**
     * {@code idColumn} names the column holding events.id in this query. The launch's context columns and
     * {@code received_at} are read where the query selects them.
     */
    public static StoredEvent stored(Row row, String idColumn) {
        var context = row.getColumnIndex("parent_pid") < 0
                ? LaunchEvent.Context.NONE
                : new LaunchEvent.Context(
                        row.getLong("parent_pid"),
                        row.getString("parent_name"),
                        row.getString("user_domain"),
                        row.getString("os_type"),
                        row.getString("os_family"),
                        row.getString("agent_version"));
        var launch = new LaunchEvent(
                row.getUUID("event_id"),
                row.getOffsetDateTime("timestamp"),
                row.getString("username"),
                row.getString("process_name"),
                row.getLong("pid"),
                row.getString("executable"),
                row.getString("hostname"),
                context);
        var receivedAt = row.getColumnIndex("received_at") < 0 ? null : row.getOffsetDateTime("received_at");
        return new StoredEvent(row.getLong(idColumn), row.getString("agent_id"), launch, receivedAt);
    }
}
