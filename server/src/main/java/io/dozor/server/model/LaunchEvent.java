package io.dozor.server.model;

import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * One program start as an agent reported it (already validated).
 *
 * @param context what newer agents add about the launch and themselves; {@link Context#NONE} from older agents
 */
public record LaunchEvent(
        UUID eventId,
        OffsetDateTime timestamp,
        String username,
        String processName,
        Long pid,
        String executable,
        String hostname,
        Context context) {

    public LaunchEvent {
        context = context == null ? Context.NONE : context;
    }

    /** A launch without context (an agent that sends none, or a test that needs none). */
    public LaunchEvent(
            UUID eventId,
            OffsetDateTime timestamp,
            String username,
            String processName,
            Long pid,
            String executable,
            String hostname) {
        this(eventId, timestamp, username, processName, pid, executable, hostname, Context.NONE);
    }

    /**
     * The optional wire fields {@code parent_pid}, {@code parent_name}, {@code user_domain}, {@code os_type},
     * {@code os_family}, {@code agent_version}; each is null when the agent did not send it.
     */
    public record Context(
            Long parentPid, String parentName, String userDomain, String osType, String osFamily, String agentVersion) {
        public static final Context NONE = new Context(null, null, null, null, null, null);
    }
}
