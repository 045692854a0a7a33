package io.dozor.server.outbox;

import io.dozor.server.model.StoredEvent;

/** One event owed to a sink, and how many times delivering it has failed so far. */
public record OutboxItem(StoredEvent event, int attempts) {}
