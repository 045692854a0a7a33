package io.dozor.server.bench;

import io.dozor.testkit.Elasticsearch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Where the benchmark's processes may run, to give Elasticsearch the place production gives it rather than a share of
 * the same cores as the server, PostgreSQL and the agents. Two ways, either or both:
 * <ul>
 *   <li>{@code ES_CPUS} + {@code REST_CPUS} (e.g. {@code 1} and {@code 0}; {@code taskset}): the Elasticsearch node
 *       (its launcher and JVM, every thread) on cores of its own; this JVM (the server, the simulated agents, the
 *       ceilings' clients) and every process of the local PostgreSQL server (user {@code postgres}; new backends
 *       inherit the postmaster's mask) on the others. {@link #close} gives PostgreSQL every core back.</li>
 *   <li>{@code ES_CPU_QUOTA} (e.g. {@code 0.5}; a cgroup with a CFS quota, what compose's {@code cpus:} sets): the
 *       node may use that many CPUs' worth of time, wherever it runs; the rest of the machine is left to the
 *       others. This makes Elasticsearch the bottleneck of the end-to-end phase, the shape a production pipeline
 *       has when the server and PostgreSQL have headroom, so the ratio to the ceiling measures how well the pipeline
 *       keeps Elasticsearch fed. {@link #close} moves the node back and removes the group.</li>
 * </ul>
 * Linux only (cgroup v1 {@code cpu} controller or cgroup v2), as root.
 */
final class Cpus implements AutoCloseable {
    static final String ES_ENV = "ES_CPUS";
    static final String REST_ENV = "REST_CPUS";
    static final String QUOTA_ENV = "ES_CPU_QUOTA";
    static final String GROUP = "dozor-bench-es";
    static final long PERIOD_US = 100_000;

    final String es; // null: no taskset
    final String rest;
    final Double quota; // null: no cgroup
    Path group;
    Path parentProcs;

    private Cpus(String es, String rest, Double quota) {
        this.es = es;
        this.rest = rest;
        this.quota = quota;
    }

    /** The placement the environment asks for, or null when it asks for none. */
    static Cpus fromEnv() {
        String es = System.getenv(ES_ENV);
        String rest = System.getenv(REST_ENV);
        String quota = System.getenv(QUOTA_ENV);
        boolean hasEs = es != null && !es.isBlank();
        boolean hasRest = rest != null && !rest.isBlank();
        boolean hasQuota = quota != null && !quota.isBlank();
        if (hasEs != hasRest) {
            throw new IllegalArgumentException("set both " + ES_ENV + " and " + REST_ENV + ", or neither");
        }
        Double q = hasQuota ? Double.valueOf(quota.strip()) : null;
        if (q != null && !(q > 0.01 && q <= CpuClock.cores())) {
            throw new IllegalArgumentException(QUOTA_ENV + " must be a number of CPUs in (0.01, cores]: " + quota);
        }
        return hasEs || hasQuota ? new Cpus(hasEs ? es.strip() : null, hasEs ? rest.strip() : null, q) : null;
    }

    /** Places the node, this JVM and PostgreSQL; says what it did. */
    String apply(Elasticsearch node) throws IOException, InterruptedException {
        ProcessHandle esProcess = node.process()
                .orElseThrow(() -> new IllegalStateException(ES_ENV + "/" + QUOTA_ENV
                        + " need a node this JVM started, not " + Elasticsearch.EXTERNAL_URL_ENV));
        List<Long> esPids = Stream.concat(Stream.of(esProcess), esProcess.descendants())
                .map(ProcessHandle::pid)
                .toList();
        List<String> done = new ArrayList<>();
        if (es != null) {
            for (long pid : esPids) {
                taskset(es, pid);
            }
            taskset(rest, ProcessHandle.current().pid());
            List<Long> pg = postgres();
            for (long pid : pg) {
                taskset(rest, pid);
            }
            done.add("Elasticsearch (" + esPids.size() + " processes) on CPUs " + es + ", this JVM and PostgreSQL ("
                    + pg.size() + " processes) on CPUs " + rest);
        }
        if (quota != null) {
            limit(esPids);
            done.add(String.format(
                    Locale.ROOT,
                    "Elasticsearch limited to %.2f CPUs (cgroup %s: CFS quota %d of %d µs)",
                    quota,
                    group,
                    Math.round(quota * PERIOD_US),
                    PERIOD_US));
        }
        return String.join("; ", done);
    }

    /** A cgroup with the quota, holding the node's processes (every thread of each). */
    void limit(List<Long> pids) throws IOException {
        long quotaUs = Math.round(quota * PERIOD_US);
        Path v1 = Path.of("/sys/fs/cgroup/cpu");
        Path v2 = Path.of("/sys/fs/cgroup");
        if (Files.isRegularFile(v1.resolve("cpu.cfs_quota_us"))) {
            group = v1.resolve(GROUP);
            Files.createDirectories(group);
            Files.writeString(group.resolve("cpu.cfs_period_us"), Long.toString(PERIOD_US));
            Files.writeString(group.resolve("cpu.cfs_quota_us"), Long.toString(quotaUs));
            parentProcs = v1.resolve("cgroup.procs");
        } else if (Files.isRegularFile(v2.resolve("cgroup.controllers"))
                && Files.readString(v2.resolve("cgroup.controllers")).contains("cpu")) {
            group = v2.resolve(GROUP);
            Files.createDirectories(group);
            Files.writeString(group.resolve("cpu.max"), quotaUs + " " + PERIOD_US);
            parentProcs = v2.resolve("cgroup.procs");
        } else {
            throw new IllegalStateException(QUOTA_ENV + " needs the cgroup cpu controller (v1 or v2)");
        }
        for (long pid : pids) {
            Files.writeString(group.resolve("cgroup.procs"), Long.toString(pid));
        }
    }

    /** PostgreSQL's processes get every core again; the node leaves its group, which is removed. */
    @Override
    public void close() throws IOException, InterruptedException {
        if (es != null) {
            String all = "0-" + (CpuClock.cores() - 1);
            for (long pid : postgres()) {
                taskset(all, pid);
            }
        }
        if (group != null) {
            for (String pid : Files.readAllLines(group.resolve("cgroup.procs"))) {
                try {
                    Files.writeString(parentProcs, pid.strip());
                } catch (IOException gone) {
                    // the process ended meanwhile
                }
            }
            Files.deleteIfExists(group);
        }
    }

    static List<Long> postgres() {
        List<Long> pids = CpuClock.postgres().map(ProcessHandle::pid).toList();
        if (pids.isEmpty()) {
            throw new IllegalStateException("no process of user postgres: " + REST_ENV + " needs a local PostgreSQL");
        }
        return pids;
    }

    static void taskset(String cpus, long pid) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", cpus, Long.toString(pid))
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        // a process that ended between listing and pinning is not an error
        if (p.waitFor() != 0
                && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IllegalStateException("taskset -a -p -c " + cpus + " " + pid + ": " + out.strip());
        }
    }
}
