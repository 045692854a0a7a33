package io.dozor.server.bus;

import io.dozor.server.model.LaunchEvent;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/** Message types travelling on the event bus; all are local-only records. */
public final class Messages {
  public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  public record StoreEvents(String agentId, List<LaunchEvent> events) {}

  public record StoreResult(int accepted, int duplicates) {}

  /** An agent's periodic report of itself. */
  public record Heartbeat(String agentId, String hostname, String version, long spoolDepth, long droppedEvents) {}

  public record TokenCheck(UUID tokenId, String agentId) {}

  public record TokenStatus(boolean active) {}

  /** Registers the local codec for every message type; call once per Vert.x instance. */
  public static void registerCodecs(EventBus bus) {
    for (Class<?> type : List.of(StoreEvents.class, StoreResult.class, Heartbeat.class, TokenCheck.class, TokenStatus.class)) {
      register(bus, type);
    }
  }

  private static <T> void register(EventBus bus, Class<T> type) {
    bus.registerDefaultCodec(type, new LocalCodec<>(type));
  }

  public static DeliveryOptions request() {
    return new DeliveryOptions().setSendTimeout(REQUEST_TIMEOUT.toMillis()).setLocalOnly(true);
  }

  private Messages() {}
}
