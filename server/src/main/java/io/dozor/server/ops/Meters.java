package io.dozor.server.ops;

import io.dozor.server.outbox.Delivery;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Dozor's own meters, next to Vert.x's HTTP, pool and event-bus metrics and the JVM's (see {@link JvmMeters}),
 * all scraped as Prometheus text from the ops listener's {@code GET /metrics}. Names, help texts and label values
 * are defined here only; every label has a bounded set of values (no agent ids, chat ids or user names).
 */
public final class Meters {
    /** Gauge values by registry (tests run several Vert.x instances in one JVM), then by name and tags. */
    private static final Map<MeterRegistry, Map<List<String>, AtomicLong>> GAUGES =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    /** The agent classes seen, by registry (one per server process; tests make one per server). */
    private static final Map<MeterRegistry, AgentClass> AGENT_CLASSES =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    /** System.nanoTime() until which Telegram asked this process to send nothing (the latest 429's end). */
    private static final AtomicLong TELEGRAM_PAUSED_UNTIL = new AtomicLong(System.nanoTime());

    private Meters() {}

    /**
     * Vert.x options with the Prometheus backend; every server Vert.x instance is created with them. The backend's
     * registry is made here, before Vert.x binds the JVM meters to it, so {@link JvmMeters}' filters apply to them.
     */
    public static VertxOptions vertxOptions() {
        MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
                .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
                .setJvmMetricsEnabled(true)
                .setEnabled(true);
        JvmMeters.prepare(BackendRegistries.setupBackend(metrics, null).getMeterRegistry());
        return new VertxOptions().setMetricsOptions(metrics);
    }

    static MeterRegistry registry() {
        MeterRegistry registry = BackendRegistries.getDefaultNow();
        return registry != null ? registry : Metrics.globalRegistry;
    }

    /**
     * Registers, at zero, the series alerts compare over time, so the first increase of each is seen (a counter
     * that appears at 1 has no earlier sample to increase from).
     */
    public static void declare(Collection<String> sinks) {
        for (String sink : sinks) {
            outboxDepth(sinkKind(sink), 0);
            for (String outcome : List.of("done", "retry", "held", "dead")) {
                deliveries(sinkKind(sink), outcome).increment(0);
            }
            for (Delivery.Reason reason : Delivery.Reason.values()) {
                deadLetters(sinkKind(sink), reason.label()).increment(0);
            }
        }
        ingested(0, 0);
        for (String reason : List.of(
                "max_connections",
                "max_connections_per_address",
                "header_timeout",
                "idle_timeout",
                "body_timeout",
                "tls_handshake_queue")) {
            connectionsClosed(reason);
        }
        telegramRateLimited(Duration.ZERO);
        Gauge.builder(
                        "dozor_telegram_pause",
                        TELEGRAM_PAUSED_UNTIL,
                        until -> Math.max(0, until.get() - System.nanoTime()) / 1e9)
                .description(
                        "Seconds until Telegram's last 429 (retry_after) ends: nothing is sent to that chat before")
                .baseUnit("seconds")
                .register(registry());
        agents(0, 0, 0, 0);
        AUTH_REASONS.forEach(reason -> authFailures(reason).increment(0));
        tokenChecks("cached").increment(0);
        tokenChecks("queried").increment(0);
    }

    /** Events in accepted batches, by {@code accepted} or {@code duplicate}. */
    public static void ingested(int accepted, int duplicates) {
        ingestEvents("accepted").increment(accepted);
        ingestEvents("duplicate").increment(duplicates);
    }

    private static Counter ingestEvents(String result) {
        return Counter.builder("dozor_ingest_events")
                .description("Events in batches the server answered 200: accepted"
                        + " (stored now) or duplicate (stored before, by event_id)")
                .tag("result", result)
                .register(registry());
    }

    /** Events stored for an agent, counted by the agent's class (see {@link AgentClass}), never by its id. */
    public static void stored(String agentId, int accepted) {
        MeterRegistry registry = registry();
        String agentClass =
                AGENT_CLASSES.computeIfAbsent(registry, r -> new AgentClass()).of(agentId);
        Counter.builder("dozor_events_stored")
                .description("Events stored, by agent class: the agent id's leading letters, lowercased (PC-01: pc),"
                        + " at most " + AgentClass.MAX_CLASSES + " classes, the rest other")
                .tag("agent_class", agentClass)
                .register(registry)
                .increment(accepted);
    }

    /** Time from receiving a batch to answering it after the commit. */
    public static void acknowledged(Duration latency) {
        Timer.builder("dozor_ingest_ack")
                .description("Time from receiving an event batch to answering it after its commit to PostgreSQL")
                .publishPercentileHistogram()
                .serviceLevelObjectives(
                        Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(500))
                .register(registry())
                .record(latency);
    }

    /**
     * Requests refused for their credential, by {@code reason}: {@code invalid_token} (signature, audience or
     * {@code exp}), {@code revoked} (unknown, revoked or lapsed token id), {@code enrollment_invalid},
     * {@code enrollment_unknown}, {@code enrollment_revoked}, {@code enrollment_expired},
     * {@code enrollment_used_up}, {@code refresh_refused}.
     */
    public static void authFailure(String reason) {
        authFailures(AUTH_REASONS.contains(reason) ? reason : "invalid_token").increment();
    }

    private static Counter authFailures(String reason) {
        return Counter.builder("dozor_auth_failures")
                .description("Requests refused for their token, enrollment token or refresh credential, by reason")
                .tag("reason", reason)
                .register(registry());
    }

    /**
     * One token registration check: {@code cached} (answered from the token cache) or {@code queried} (asked of
     * PostgreSQL).
     */
    public static void tokenChecked(boolean cached) {
        tokenChecks(cached ? "cached" : "queried").increment();
    }

    private static Counter tokenChecks(String result) {
        return Counter.builder("dozor_auth_token_checks")
                .description("Token registration checks of authenticated requests: cached (the token was found active"
                        + " less than auth.token_cache_ttl ago) or queried (asked of PostgreSQL)")
                .tag("result", result)
                .register(registry());
    }

    private static final java.util.Set<String> AUTH_REASONS = java.util.Set.of(
            "invalid_token",
            "revoked",
            "enrollment_invalid",
            "enrollment_unknown",
            "enrollment_revoked",
            "enrollment_expired",
            "enrollment_used_up",
            "refresh_refused");

    /** Refused batches by HTTP status. */
    public static void refused(int status) {
        Counter.builder("dozor_ingest_refused")
                .description("The agents' requests (events, heartbeats, enrolment,"
                        + " renewal) answered with"
                        + " an error, by HTTP status")
                .tag("status", Integer.toString(status))
                .register(registry())
                .increment();
    }

    /**
     * Connections the ingest server closed on its own, by {@code reason}: {@code max_connections},
     * {@code max_connections_per_address}, {@code header_timeout}, {@code idle_timeout} (idle between two requests),
     * {@code body_timeout}, {@code tls_handshake_queue} (too many TLS handshakes waiting).
     */
    public static void connectionClosed(String reason) {
        connectionsClosed(reason).increment();
    }

    private static Counter connectionsClosed(String reason) {
        return Counter.builder("dozor_http_connections_closed")
                .description("Connections the agents' listener closed on"
                        + " its own, by reason: max_connections, max_connections_per_address, header_timeout, idle_timeout,"
                        + " body_timeout, tls_handshake_queue")
                .tag("reason", reason)
                .register(registry());
    }

    /**
     * Outcomes of deliveries by sink: {@code done}, {@code retry} (ES 429/5xx, Telegram errors), {@code held} (quiet
     * hours), {@code dead}.
     */
    public static void delivered(String sink, String outcome, int count) {
        if (count > 0) {
            deliveries(sinkKind(sink), outcome).increment(count);
        }
    }

    private static Counter deliveries(String kind, String outcome) {
        return Counter.builder("dozor_deliveries")
                .description("Outbox deliveries by kind of sink (elasticsearch,"
                        + " telegram, log) and outcome: done, retry (the destination failed for now), held (quiet hours),"
                        + " dead (dead-lettered)")
                .tag("sink", kind)
                .tag("outcome", outcome)
                .register(registry());
    }

    /** Deliveries kept in {@code dead_letters}, by kind of sink and {@code reason} ({@link Delivery.Reason#label()}). */
    public static void deadLettered(String sink, String reason, int count) {
        if (count > 0) {
            deadLetters(sinkKind(sink), reason).increment(count);
        }
    }

    private static Counter deadLetters(String kind, String reason) {
        return Counter.builder("dozor_dead_letters")
                .description(
                        "Deliveries that can never succeed, kept in the"
                                + " dead_letters table, by kind of sink and reason: unindexable, rejected (Elasticsearch refused the"
                                + " document), render, refused (Telegram refused the message), chat_gone, sink_error, unreadable")
                .tag("sink", kind)
                .tag("reason", reason)
                .register(registry());
    }

    /** Outbox rows waiting, by sink name as stored (chats summed into {@code telegram}: no chat ids in metrics). */
    public static void outboxDepths(Collection<String> sinks, Map<String, Long> depthBySink) {
        Map<String, Long> byKind = new HashMap<>();
        sinks.forEach(sink -> byKind.put(sinkKind(sink), 0L));
        depthBySink.forEach((sink, depth) -> byKind.merge(sinkKind(sink), depth, Long::sum));
        byKind.forEach(Meters::outboxDepth);
    }

    private static void outboxDepth(String kind, long depth) {
        gauge(
                        "dozor_outbox_depth",
                        "Outbox rows waiting for delivery, by kind of sink (the chats of telegram summed),"
                                + " refreshed every 5 s",
                        Tags.of("sink", kind))
                .set(depth);
    }

    /**
     * The fleet as PostgreSQL knows it: agents known, those heard from within {@code telegram.silent_agent_after},
     * the largest spool depth (events) the active ones reported in their last heartbeat, and the events the spools
     * of all known agents reported dropped (each agent's count only grows while its spool lives).
     */
    public static void agents(long known, long active, long spoolDepthMax, long droppedEvents) {
        gauge("dozor_agents_known", "Agents the server knows (not yet removed by retention)", Tags.empty())
                .set(known);
        gauge(
                        "dozor_agents_active",
                        "Agents heard from within telegram.silent_agent_after (15m when that is 0s)",
                        Tags.empty())
                .set(active);
        gauge(
                        "dozor_agent_spool_depth_max",
                        "The largest spool depth, in events, that an active agent reported in its last heartbeat",
                        Tags.empty())
                .set(spoolDepthMax);
        gauge(
                        "dozor_agents_dropped_events",
                        "Events the spools of all known agents reported dropped at their bound"
                                + " (spool.max_mb), as last reported",
                        Tags.empty())
                .set(droppedEvents);
    }

    /** Telegram answered 429 with {@code retryAfter} (zero: registers the counter only). */
    public static void telegramRateLimited(Duration retryAfter) {
        Counter counter = Counter.builder("dozor_telegram_rate_limited")
                .description("Telegram answers 429 (too many"
                        + " requests) to sendMessage; each pauses its chat for retry_after")
                .register(registry());
        if (!retryAfter.isZero()) {
            counter.increment();
            long until = System.nanoTime() + retryAfter.toNanos();
            TELEGRAM_PAUSED_UNTIL.accumulateAndGet(until, (a, b) -> a - b > 0 ? a : b);
        }
    }

    /** Items of an Elasticsearch bulk answer that failed, by their HTTP status. */
    public static void bulkItemFailed(int status) {
        Counter.builder("dozor_elasticsearch_bulk_item_failures")
                .description("Items of Elasticsearch bulk answers"
                        + " that failed, by their status (429 and 5xx are retried, other statuses dead-lettered)")
                .tag("status", Integer.toString(status))
                .register(registry())
                .increment();
    }

    /** Whether PostgreSQL or Elasticsearch answered the last check (every 10 s and at each /readyz). */
    public static void dependencyUp(String dependency, boolean up) {
        gauge(
                        "dozor_dependency_up",
                        "1 when the dependency (postgres, elasticsearch) answered the last health check"
                                + " (every 10 s), else 0",
                        Tags.of("dependency", dependency))
                .set(up ? 1 : 0);
    }

    /** One retention run by {@code result}: {@code done}, {@code skipped} (another instance ran it), {@code failed}. */
    public static void retentionRun(String result, int count) {
        Counter.builder("dozor_retention_runs")
                .description(
                        "Retention runs by result: done, skipped (another instance held the lock), failed (something is"
                                + " left for the next run)")
                .tag("result", result)
                .register(registry())
                .increment(count);
    }

    /** What a retention run removed: events, partitions, indices, and rows of the small tables. */
    public static void retentionRemoved(String what, long count) {
        Counter.builder("dozor_retention_removed")
                .description(
                        "What retention removed: events (in dropped partitions), partitions, indices, rows of small tables")
                .tag("what", what)
                .register(registry())
                .increment(count);
    }

    private static AtomicLong gauge(String name, String help, Tags tags) {
        MeterRegistry registry = registry();
        List<String> key = new java.util.ArrayList<>(List.of(name));
        tags.forEach(t -> key.addAll(List.of(t.getKey(), t.getValue())));
        return GAUGES.computeIfAbsent(registry, r -> new ConcurrentHashMap<>()).computeIfAbsent(key, k -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder(name, value, AtomicLong::get)
                    .description(help)
                    .tags(tags)
                    .strongReference(true)
                    .register(registry);
            return value;
        });
    }

    /** Per-chat sinks would make one series per chat id; metrics keep the kind of sink only. */
    static String sinkKind(String sink) {
        int colon = sink.indexOf(':');
        return colon < 0 ? sink : sink.substring(0, colon);
    }
}
