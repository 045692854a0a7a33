package io.dozor.server.model;

import java.time.OffsetDateTime;
import java.util.UUID;

/** One program start as an agent reported it (already validated). */
public record LaunchEvent(UUID eventId, OffsetDateTime timestamp, String username, String processName,
                          Long pid, String executable, String hostname) {}
