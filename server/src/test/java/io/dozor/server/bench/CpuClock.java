package io.dozor.server.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * CPU time spent by the benchmark's parties between two readings: this JVM (server, simulated agents, clients), the
 * Elasticsearch node (its launcher and descendants), PostgreSQL (every process of user {@code postgres} alive at both
 * readings: the pool's backends live through a phase) and the whole machine ({@code /proc/stat}), so that what other
 * programs took from the cores during a phase can be told apart. Linux; a missing reading is NaN.
 */
final class CpuClock {
    private final Optional<ProcessHandle> es;

    CpuClock(Optional<ProcessHandle> es) {
        this.es = es;
    }

    record Reading(double jvm, double es, Map<Long, Double> postgres, double machine, long nanos) {
        /** The CPU seconds of each party from {@code start} to this reading, and the wall time. */
        String since(Reading start) {
            double wall = (nanos - start.nanos) / 1e9;
            double total = machine - start.machine;
            double pg = postgresSince(start);
            double others = total - jvmSince(start) - (es - start.es) - pg;
            return String.format(
                    Locale.ROOT,
                    "%.1f s wall; CPU s: this JVM %.1f, Elasticsearch %.1f, PostgreSQL %.1f, others %.1f (machine %.1f"
                            + " of %.1f available)",
                    wall,
                    jvmSince(start),
                    es - start.es,
                    pg,
                    Math.max(0, others),
                    total,
                    wall * cores());
        }

        /** CPU seconds of PostgreSQL's processes alive at both readings. */
        double postgresSince(Reading start) {
            double pg = 0;
            for (var e : postgres.entrySet()) {
                Double before = start.postgres.get(e.getKey());
                if (before != null) {
                    pg += e.getValue() - before;
                }
            }
            return pg;
        }

        double jvmSince(Reading start) {
            return jvm - start.jvm;
        }
    }

    Reading read() {
        return new Reading(
                seconds(Stream.of(ProcessHandle.current())),
                es.map(p -> seconds(Stream.concat(Stream.of(p), p.descendants())))
                        .orElse(Double.NaN),
                postgres().collect(Collectors.toMap(ProcessHandle::pid, p -> seconds(Stream.of(p)))),
                machine(),
                System.nanoTime());
    }

    /** The processes of the local PostgreSQL server: those of user {@code postgres}. */
    static Stream<ProcessHandle> postgres() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().user().map("postgres"::equals).orElse(false));
    }

    static double seconds(Stream<ProcessHandle> processes) {
        return processes
                        .map(p -> p.info().totalCpuDuration().orElse(Duration.ZERO))
                        .mapToLong(Duration::toNanos)
                        .sum()
                / 1e9;
    }

    /**
     * The machine's cores ({@code cpuN} lines of {@code /proc/stat}); not {@code availableProcessors()}, which counts
     * only the cores this JVM may run on once {@link Cpus} has pinned it.
     */
    static int cores() {
        try {
            return (int) Files.readAllLines(Path.of("/proc/stat")).stream()
                    .filter(l -> l.matches("cpu\\d+ .*"))
                    .count();
        } catch (IOException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    /** Busy CPU seconds of the whole machine since boot: user + nice + system + irq + softirq + steal. */
    static double machine() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long ticks = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                ticks += Long.parseLong(f[i]);
            }
            return ticks / 100.0; // USER_HZ
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
