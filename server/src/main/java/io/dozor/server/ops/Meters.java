package io.dozor.server.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Dozor's own meters, next to Vert.x's HTTP, pool and event-bus metrics, all scraped as Prometheus
 * text from {@code GET /metrics}. Names are defined here only.
 */
public final class Meters {
  /** Outbox depth gauges by registry (tests run several Vert.x instances in one JVM) and sink. */
  private static final Map<MeterRegistry, Map<String, AtomicLong>> GAUGES =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  private Meters() {}

  /** Vert.x options with the Prometheus backend; every server Vert.x instance is created with them. */
  public static VertxOptions vertxOptions() {
    return new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
        .setJvmMetricsEnabled(true)
        .setEnabled(true));
  }

  static MeterRegistry registry() {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    return registry != null ? registry : Metrics.globalRegistry;
  }

  /** Events in accepted batches, by {@code accepted} or {@code duplicate}. */
  public static void ingested(int accepted, int duplicates) {
    Counter.builder("dozor_ingest_events").tag("result", "accepted").register(registry()).increment(accepted);
    Counter.builder("dozor_ingest_events").tag("result", "duplicate").register(registry()).increment(duplicates);
  }

  /** Time from receiving a batch to answering it after the commit. */
  public static void acknowledged(Duration latency) {
    Timer.builder("dozor_ingest_ack").publishPercentileHistogram()
        .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(500))
        .register(registry()).record(latency);
  }

  /**
   * Requests refused for their credential, by {@code reason}: {@code invalid_token} (signature, audience or
   * {@code exp}), {@code revoked} (unknown, revoked or lapsed token id), {@code enrollment_invalid},
   * {@code enrollment_unknown}, {@code enrollment_revoked}, {@code enrollment_expired},
   * {@code enrollment_used_up}, {@code refresh_refused}.
   */
  public static void authFailure(String reason) {
    Counter.builder("dozor_auth_failures")
        .description("Requests refused for their token, enrollment token or refresh credential, by reason")
        .tag("reason", AUTH_REASONS.contains(reason) ? reason : "invalid_token").register(registry()).increment();
  }

  private static final java.util.Set<String> AUTH_REASONS = java.util.Set.of("invalid_token", "revoked",
      "enrollment_invalid", "enrollment_unknown", "enrollment_revoked", "enrollment_expired", "enrollment_used_up",
      "refresh_refused");

  /** Refused batches by HTTP status. */
  public static void refused(int status) {
    Counter.builder("dozor_ingest_refused").tag("status", Integer.toString(status)).register(registry()).increment();
  }

  /**
   * Connections the ingest server closed on its own, by {@code reason}: {@code max_connections},
   * {@code max_connections_per_address}, {@code header_timeout}, {@code body_timeout}.
   */
  public static void connectionClosed(String reason) {
    Counter.builder("dozor_http_connections_closed").tag("reason", reason).register(registry()).increment();
  }

  /** Outcomes of deliveries by sink: {@code done}, {@code retry} (ES 429/5xx, Telegram errors), {@code dead}. */
  public static void delivered(String sink, String outcome, int count) {
    if (count > 0) {
      Counter.builder("dozor_deliveries").tag("sink", sinkKind(sink)).tag("outcome", outcome)
          .register(registry()).increment(count);
    }
  }

  /** Rows waiting in the outbox per sink, refreshed periodically. */
  public static void outboxDepth(String sink, long depth) {
    MeterRegistry registry = registry();
    GAUGES.computeIfAbsent(registry, r -> new ConcurrentHashMap<>())
        .computeIfAbsent(sink, s -> registry.gauge("dozor_outbox_depth",
            io.micrometer.core.instrument.Tags.of("sink", s),
            new AtomicLong()))
        .set(depth);
  }

  /** Sinks known to have had rows but absent from the last count are empty now. */
  public static void outboxDrained(java.util.Set<String> nonEmpty) {
    GAUGES.getOrDefault(registry(), Map.of()).forEach((sink, gauge) -> {
      if (!nonEmpty.contains(sink)) {
        gauge.set(0);
      }
    });
  }

  /** One retention run by {@code result}: {@code done}, {@code skipped} (another instance ran it), {@code failed}. */
  public static void retentionRun(String result, int count) {
    Counter.builder("dozor_retention_runs")
        .description("Retention runs by result: done, skipped (another instance held the lock), failed (something is"
            + " left for the next run)")
        .tag("result", result).register(registry()).increment(count);
  }

  /** What a retention run removed: events, partitions, indices, and rows of the small tables. */
  public static void retentionRemoved(String what, long count) {
    Counter.builder("dozor_retention_removed")
        .description("What retention removed: events (in dropped partitions), partitions, indices, rows of small tables")
        .tag("what", what).register(registry()).increment(count);
  }

  /** Per-chat sinks would make one series per chat id; metrics keep the kind of sink only. */
  static String sinkKind(String sink) {
    int colon = sink.indexOf(':');
    return colon < 0 ? sink : sink.substring(0, colon);
  }
}
