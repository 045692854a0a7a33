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
 * @param context     the parent, the account's domain, this host's OS and this agent's version, each left out of
 *                    the JSON when unknown
 */
public record LaunchEvent(
        UUID eventId,
        OffsetDateTime timestamp,
        String username,
        String processName,
        long pid,
        String executable,
        String hostname,
        Context context) {

    /**
     * The optional wire fields {@code parent_pid}, {@code parent_name}, {@code user_domain}, {@code os_type},
     * {@code os_family}, {@code agent_version}; null when unknown.
     */
    public record Context(
            Long parentPid, String parentName, String userDomain, String osType, String osFamily, String agentVersion) {

        public static final Context NONE = new Context(null, null, null, null, null, null);

        /** What this agent knows of itself and its host, for every event: OS type and family, version. */
        public static Context ofAgent(HostOs os, String version) {
            return new Context(null, null, null, os.type(), os.family(), version);
        }
    }

    /** A launch without context. */
    public LaunchEvent(
            UUID eventId,
            OffsetDateTime timestamp,
            String username,
            String processName,
            long pid,
            String executable,
            String hostname) {
        this(eventId, timestamp, username, processName, pid, executable, hostname, Context.NONE);
    }

    /** RFC 3339 with milliseconds and a numeric offset: {@code 2026-11-27T10:15:03.120+03:00}. */
    public static final DateTimeFormatter TIMESTAMP_FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSxxx");

    public LaunchEvent {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(processName, "processName");
        Objects.requireNonNull(hostname, "hostname");
        context = context == null ? Context.NONE : context;
    }

    /** The event for a detected launch: a new random id, the start time in {@code zone}. */
    public static LaunchEvent of(ProcessInfo process, ZoneId zone, String hostname) {
        return of(process, null, zone, hostname, Context.NONE);
    }

    /**
     * As {@link #of(ProcessInfo, ZoneId, String)}, with the context: the parent's pid and {@code parentName}
     * (null when unknown), the domain of a {@code DOMAIN\name} user, and {@code agent}'s OS and version.
     */
    public static LaunchEvent of(ProcessInfo process, String parentName, ZoneId zone, String hostname, Context agent) {
        OffsetDateTime start =
                OffsetDateTime.ofInstant(process.startTime(), zone).truncatedTo(ChronoUnit.MILLIS);
        var context = new Context(
                process.parentPid() < 0 ? null : process.parentPid(),
                blankToNull(parentName),
                userDomain(process.user()),
                agent.osType(),
                agent.osFamily(),
                agent.agentVersion());
        return new LaunchEvent(
                UUID.randomUUID(),
                start,
                LaunchDetector.userName(process.user()),
                process.name(),
                process.pid(),
                process.executable(),
                hostname,
                context);
    }

    /** The part before the last backslash: {@code CORP\ivanov} gives {@code CORP}; none (Linux) gives null. */
    static String userDomain(String user) {
        int slash = user == null ? -1 : user.lastIndexOf('\\');
        return slash <= 0 ? null : blankToNull(user.substring(0, slash));
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
