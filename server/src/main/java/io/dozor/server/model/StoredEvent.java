package io.dozor.server.model;

import java.time.OffsetDateTime;

/**
 * A launch as PostgreSQL holds it: its row id, the agent the token named and when the server stored it
 * ({@code received_at}; null where a query does not read it).
 */
public record StoredEvent(long id, String agentId, LaunchEvent launch, OffsetDateTime receivedAt) {

    public StoredEvent(long id, String agentId, LaunchEvent launch) {
        this(id, agentId, launch, null);
    }
}
