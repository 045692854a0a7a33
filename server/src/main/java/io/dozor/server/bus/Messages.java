package io.dozor.server.bus;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.model.LaunchEvent;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/** Message types travelling on the event bus; all are local-only records. */
public final class Messages {
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

    public record StoreEvents(String agentId, List<LaunchEvent> events) {}

    public record StoreResult(int accepted, int duplicates) {}

    /**
     * An agent's periodic report of itself. {@code spoolError}: why its spool cannot store launches now
     * ({@code disk full}, ...), null while it works; {@code unpersistedEvents}: launches it lost because of that.
     */
    public record Heartbeat(
            String agentId,
            String hostname,
            String version,
            long spoolDepth,
            long droppedEvents,
            long unpersistedEvents,
            String spoolError) {}

    public record TokenCheck(UUID tokenId, String subject, AgentTokens.Kind kind) {}

    /** {@code remainingMillis}: until the token's own {@code expires_at}, by the database's clock (0 if inactive). */
    public record TokenStatus(boolean active, long remainingMillis) {}

    /**
     * An agent asks to enrol with the enrollment token {@code tokenId} named {@code name}; {@code enrollmentKey} is
     * the secret the agent sends with every attempt of one enrolment (null from agents that send none).
     */
    public record EnrollRequest(UUID tokenId, String name, String hostname, String os, String enrollmentKey) {
        @Override
        public String toString() {
            return "EnrollRequest[name=" + name + ", hostname=" + hostname + ", os=" + os + ", enrollmentKey="
                    + (enrollmentKey == null ? "none" : "****") + "]";
        }
    }

    /** An agent renews its access token with its refresh credential. */
    public record RefreshRequest(String refreshToken) {
        @Override
        public String toString() {
            return "RefreshRequest[****]";
        }
    }

    /**
     * An agent's credential: a short-lived access token and the refresh credential that renews it; or, when
     * {@code refusal} is set, why none was given (a reason of the bounded set {@code dozor_auth_failures_total} counts).
     */
    public record Credential(
            String agentId, String accessToken, long expiresInSeconds, String refreshToken, String refusal) {
        public static Credential refused(String reason) {
            return new Credential(null, null, 0, null, reason);
        }

        @Override
        public String toString() {
            return "Credential[agentId=" + agentId + ", refusal=" + refusal + "]";
        }
    }

    /** Admin API filters, each optional (null); {@code before} is the paging cursor (an events.id). */
    public record EventsQuery(
            OffsetDateTime from,
            OffsetDateTime to,
            String user,
            String process,
            String agent,
            Long before,
            int limit) {}

    /** Whether a dependency answers; {@code detail} says why not. */
    public record Health(boolean up, String detail) {}

    /** Registers the local codec for every message type; call once per Vert.x instance. */
    public static void registerCodecs(EventBus bus) {
        for (Class<?> type : List.of(
                StoreEvents.class,
                StoreResult.class,
                Heartbeat.class,
                TokenCheck.class,
                TokenStatus.class,
                Health.class,
                EventsQuery.class,
                EnrollRequest.class,
                RefreshRequest.class,
                Credential.class)) {
            register(bus, type);
        }
    }

    private static <T> void register(EventBus bus, Class<T> type) {
        bus.registerDefaultCodec(type, new LocalCodec<>(type));
    }

    public static DeliveryOptions request() {
        return new DeliveryOptions().setSendTimeout(REQUEST_TIMEOUT.toMillis()).setLocalOnly(true);
    }

    /**
     * Asks a dependency's health check ({@link Addresses#HEALTH_POSTGRES}, {@link Addresses#HEALTH_ELASTICSEARCH}):
     * the one answer {@code /readyz}, the dependency gauges and the bot's {@code /status} share. No answer
     * within {@code timeout} (or no one listening) is "down".
     */
    public static Future<Health> health(EventBus bus, String address, Duration timeout) {
        return bus.<Health>request(address, null, request().setSendTimeout(timeout.toMillis()))
                .map(reply -> reply.body())
                .otherwise(err -> new Health(false, "no answer: " + err.getMessage()));
    }

    private Messages() {}
}
