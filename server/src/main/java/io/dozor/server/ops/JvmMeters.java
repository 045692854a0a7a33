package io.dozor.server.ops;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import java.lang.management.ManagementFactory;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * What Micrometer's JVM and system meters (bound by Vert.x) become in Prometheus' text, so the whole scrape passes
 * {@code promtool check metrics}; the table with the reasons is in docs/metrics.md. Kept as they are, except:
 * <ul>
 *   <li>{@code jvm.compilation.time} ({@code jvm_compilation_time_ms_total}, milliseconds): dropped. A JIT
 *       total is of no use for operating Dozor, and renaming it would keep the wrong unit.</li>
 *   <li>{@code process.cpu.time} ({@code process_cpu_time_ns_total}, nanoseconds): replaced by
 *       {@code process_cpu_seconds_total}, the name Prometheus' own clients and common dashboards use.</li>
 *   <li>{@code system.cpu.count} ({@code system_cpu_count}, a gauge with a summary's suffix): renamed
 *       {@code system_cpus}.</li>
 * </ul>
 */
final class JvmMeters {
    static final String COMPILATION_TIME = "jvm.compilation.time";
    static final String PROCESS_CPU_TIME = "process.cpu.time";
    static final String CPU_COUNT = "system.cpu.count";

    private static final Set<MeterRegistry> PREPARED =
            Collections.newSetFromMap(Collections.synchronizedMap(new WeakHashMap<>()));
    private static final Map<String, String> RENAMED = Map.of(CPU_COUNT, "system.cpus");

    private JvmMeters() {}

    /** Once per registry, before anything is bound to it: the filters apply to meters registered afterwards. */
    static void prepare(MeterRegistry registry) {
        if (!PREPARED.add(registry)) {
            return;
        }
        registry.config()
                .meterFilter(MeterFilter.deny(id ->
                        id.getName().equals(COMPILATION_TIME) || id.getName().equals(PROCESS_CPU_TIME)))
                .meterFilter(new MeterFilter() {
                    @Override
                    public Meter.Id map(Meter.Id id) {
                        String name = RENAMED.get(id.getName());
                        return name == null ? id : id.withName(name);
                    }
                });
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, bean -> Math.max(0, bean.getProcessCpuTime()) / 1e9)
                    .description("CPU time used by the server's process")
                    .baseUnit("seconds")
                    .register(registry);
        }
    }
}
