package io.dozor.agent;

import static net.logstash.logback.argument.StructuredArguments.kv;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running agent: one thread polls the process source every {@code poll_interval_ms} and queues the
 * launches the detector finds; the {@link EventShipper} sends them on its own thread.
 *
 * <pre>{@code
 * try (Agent agent = new Agent(config, new PortableProcessSource(), Clock.systemDefaultZone())) {
 *     agent.start();   // the baseline snapshot is taken before start() returns
 *     ...
 * }
 * }</pre>
 */
public final class Agent implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    private final AgentConfig config;
    private final ProcessSource source;
    private final Clock clock;
    private final String hostname;
    private final EventQueue queue;
    private final LaunchDetector detector;
    private final EventShipper shipper;
    private final ScheduledExecutorService poller;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * @param clock its zone gives the offset of event timestamps
     */
    public Agent(AgentConfig config, ProcessSource source, Clock clock) {
        this(config, source, clock, localHostname(), new InMemoryEventQueue());
    }

    public Agent(AgentConfig config, ProcessSource source, Clock clock, String hostname, EventQueue queue) {
        this.config = config;
        this.source = source;
        this.clock = clock;
        this.hostname = hostname;
        this.queue = queue;
        this.detector = new LaunchDetector(config);
        this.shipper = new EventShipper(config, queue);
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dozor-poller");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Takes the baseline snapshot, then starts polling and shipping. Every watched process started after
     * this returns is reported.
     */
    public void start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("agent already started");
        }
        log.info("agent starting [server={}, processes={}, poll_interval_ms={}, host={}]",
                config.serverUrl(), config.processes(), config.pollInterval().toMillis(), hostname);
        try {
            poller.submit(this::poll).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while taking the first snapshot", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("first snapshot failed", e.getCause());
        }
        long interval = config.pollInterval().toMillis();
        poller.scheduleWithFixedDelay(this::poll, interval, interval, TimeUnit.MILLISECONDS);
        shipper.start();
        // from here on every start of a watched program is reported (scripts wait for this line)
        log.info("agent started");
    }

    private void poll() {
        try {
            List<ProcessInfo> launches = detector.detect(source.snapshot());
            for (ProcessInfo p : launches) {
                LaunchEvent event = LaunchEvent.of(p, clock.getZone(), hostname);
                log.info("launch detected [user={}, process={}, pid={}, started={}, {}]",
                        event.username(), event.processName(), event.pid(),
                        LaunchEvent.TIMESTAMP_FORMAT.format(event.timestamp()), kv("event_id", event.eventId()));
                queue.offer(event);
            }
        } catch (RuntimeException e) {
            log.warn("process poll failed [error={}]", e.toString(), e);
        }
    }

    /** Stops polling, lets the shipper make a last attempt, and releases the queue. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        poller.shutdownNow();
        try {
            poller.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        shipper.close();
        int unsent = queue.size();
        if (unsent > 0) {
            log.warn("agent stopped with unsent events [count={}]", unsent);
        } else {
            log.info("agent stopped");
        }
        queue.close();
    }

    /** {@code COMPUTERNAME}, else {@code HOSTNAME}, else the local host name, else {@code unknown}. */
    public static String localHostname() {
        for (String variable : List.of("COMPUTERNAME", "HOSTNAME")) {
            String value = System.getenv(variable);
            if (value != null && !value.isBlank()) {
                return value.trim();
            }
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }
}
