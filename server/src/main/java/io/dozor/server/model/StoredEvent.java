package io.dozor.server.model;

/** A launch as PostgreSQL holds it: its row id and the agent the token named. */
public record StoredEvent(long id, String agentId, LaunchEvent launch) {}
