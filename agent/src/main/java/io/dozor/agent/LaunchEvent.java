package io.dozor.agent;

import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.UUID;

/**
 * One launch, as sent to the server (docs/http-api.md, "wire format"; {@link EventJson} writes it).
 *
 * @param eventId     random id made at detection; the server stores a resent id once
 * @param timestamp   when the process started (not when it was detected), to the millisecond
 * @param username    who started it, without a domain prefix
 * @param processName the name as the OS reports it ({@code chrome.exe} on Windows)
 * @param pid         process id
 * @param executable  full path of the executable; left out of the JSON when unknown
 * @param hostname    this computer's name
 */
public record LaunchEvent(
        UUID eventId,
        OffsetDateTime timestamp,
        String username,
        String processName,
        long pid,
        String executable,
        String hostname) {

    /** RFC 3339 with milliseconds and a numeric offset: {@code 2026-11-27T10:15:03.120+03:00}. */
    public static final DateTimeFormatter TIMESTAMP_FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSxxx");

    public LaunchEvent {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(processName, "processName");
        Objects.requireNonNull(hostname, "hostname");
    }

    /** The event for a detected launch: a new random id, the start time in {@code zone}. */
    public static LaunchEvent of(ProcessInfo process, ZoneId zone, String hostname) {
        OffsetDateTime start = OffsetDateTime.ofInstant(process.startTime(), zone).truncatedTo(ChronoUnit.MILLIS);
        return new LaunchEvent(UUID.randomUUID(), start, LaunchDetector.userName(process.user()),
                process.name(), process.pid(), process.executable(), hostname);
    }
}
