package io.dozor.agent;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running agent: one thread polls the process source every {@code poll_interval_ms} and spools the
 * launches the detector finds; the {@link EventShipper} sends them on its own thread, and a heartbeat
 * reports the agent every {@code heartbeat_interval_s} (less often while the server refuses it: {@link Heartbeat}).
 *
 * <p>Restarts: the first snapshot after a start is the baseline, so a process already reported before a
 * restart is not reported again, and one started while the agent was down is not reported either (unless
 * {@code report_existing}); what was spooled and not yet sent is sent.
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
    public static final String VERSION = "0.1.0";

    private final AgentConfig config;
    private final ProcessSource source;
    private final Clock clock;
    private final String hostname;
    private final EventQueue queue;
    private final LaunchDetector detector;
    private final EventShipper shipper;
    private final ScheduledExecutorService poller;
    private final ScheduledExecutorService heartbeats;
    private final Heartbeat heartbeat;
    /** What every event says of this agent and its host (OS type and family, version). */
    private final LaunchEvent.Context context = LaunchEvent.Context.ofAgent(HostOs.current(), VERSION);
    /** Set by the first poll, on the poller thread. */
    private boolean baselineTaken;

    private Path settingsFile;
    private FileTime settingsModified;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * @param clock its zone gives the offset of event timestamps
     */
    public Agent(AgentConfig config, ProcessSource source, Clock clock) {
        this(config, source, clock, localHostname(), openQueue(config));
    }

    /** The durable spool in {@code [spool] dir}, or a queue in memory when no directory is set. */
    static EventQueue openQueue(AgentConfig config) {
        return config.spoolDir() == null
                ? new InMemoryEventQueue()
                : SqliteSpool.open(config.spoolDir(), config.spoolMaxBytes(), config.reportExisting());
    }

    public Agent(AgentConfig config, ProcessSource source, Clock clock, String hostname, EventQueue queue) {
        this.config = config;
        this.source = source;
        this.clock = clock;
        this.hostname = hostname;
        this.queue = queue;
        this.detector = new LaunchDetector(config);
        if (config.reportExisting()) {
            detector.alreadyReported(queue.reported()); // reported before a restart: not again
        }
        this.shipper = new EventShipper(config, queue, hostname, CredentialProtectors.forThisSystem());
        source.watch(name -> detector.isWatchedName(name));
        this.poller = singleThread("dozor-poller");
        this.heartbeats = singleThread("dozor-heartbeat");
        this.heartbeat = new Heartbeat(
                shipper.client(),
                () -> new Heartbeat.Report(
                        VERSION, hostname, queue.size(), queue.dropped(), queue.unpersisted(), queue.error()),
                config.heartbeatInterval());
    }

    private static ScheduledExecutorService singleThread(String name) {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Re-reads the watch list and exclusions from {@code file} when it changes (checked every poll); an
     * invalid file is logged and the previous lists are kept. Call before {@link #start}.
     */
    public Agent reloadingFrom(Path file) {
        this.settingsFile = file;
        this.settingsModified = modified(file);
        return this;
    }

    /**
     * Takes the baseline snapshot, then starts polling and shipping. Every watched process started after
     * this returns is reported.
     */
    public void start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("agent already started");
        }
        log.info(
                "agent starting [server={}, processes={}, poll_interval_ms={}, host={}]",
                config.serverUrl(),
                config.processes(),
                config.pollInterval().toMillis(),
                hostname);
        if (config.serverUrl().getScheme().equalsIgnoreCase("http")) { // the INI set allow_insecure_http
            log.warn(
                    "server url is plain http: the token and the events cross the network unencrypted "
                            + "[server={}, setting=allow_insecure_http]",
                    config.serverUrl());
        }
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
        heartbeat.start(heartbeats);
        // from here on every start of a watched program is reported (scripts wait for this line)
        log.info("agent started");
    }

    private void poll() {
        try {
            reloadIfChanged();
            queue.recover();
            List<ProcessInfo> snapshot = source.snapshot();
            List<ProcessInfo> launches = detector.detect(snapshot);
            for (ProcessInfo p : launches) {
                // the id is made before the event is written: a resend after a crash is stored once
                LaunchEvent event = LaunchEvent.of(p, parentName(p, snapshot), clock.getZone(), hostname, context);
                queue.offer(event);
                String id = event.eventId().toString();
                log.atInfo()
                        .addKeyValue("event_id", id)
                        .log(
                                "launch detected [user={}, process={}, pid={}, started={}, event_id={}]",
                                event.username(),
                                event.processName(),
                                event.pid(),
                                LaunchEvent.TIMESTAMP_FORMAT.format(event.timestamp()),
                                id);
            }
            if (!baselineTaken) { // what the queue remembers of exited processes is of no use any more
                baselineTaken = true;
                Set<ProcessInfo.Key> running = new HashSet<>();
                snapshot.forEach(p -> running.add(p.key()));
                queue.forgetReportedExcept(running);
            }
        } catch (RuntimeException e) {
            log.warn("process poll failed [error={}]", e.toString(), e);
        }
    }

    /**
     * The name of {@code p}'s parent in the same snapshot, or null: unknown parent, or a process under the
     * parent's pid that started after {@code p} (the pid was reused, it is not the parent).
     */
    static String parentName(ProcessInfo p, List<ProcessInfo> snapshot) {
        if (p.parentPid() < 0) {
            return null;
        }
        for (ProcessInfo candidate : snapshot) {
            if (candidate.pid() == p.parentPid()) {
                return candidate.startTime().isAfter(p.startTime()) ? null : candidate.name();
            }
        }
        return null;
    }

    private void reloadIfChanged() {
        if (settingsFile == null) {
            return;
        }
        FileTime now = modified(settingsFile);
        if (now == null || now.equals(settingsModified)) {
            return;
        }
        settingsModified = now;
        try {
            LaunchDetector.Filter filter = LaunchDetector.Filter.of(AgentConfig.load(settingsFile));
            if (!filter.equals(detector.filter())) {
                detector.reconfigure(filter);
                log.info(
                        "watch list reloaded [file={}, processes={}, excluded_users={}, excluded_names={}, "
                                + "excluded_paths={}]",
                        settingsFile,
                        filter.watched(),
                        filter.excludedUsers(),
                        filter.excludedNames(),
                        filter.excludedPaths());
            }
        } catch (ConfigException e) {
            log.error(
                    "settings file changed but is invalid, keeping the previous watch list [file={}, error={}]",
                    settingsFile,
                    e.getMessage());
        }
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return null;
        }
    }

    /** Stops polling, lets the shipper make a last attempt, and releases the queue. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        poller.shutdownNow();
        heartbeats.shutdownNow();
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
