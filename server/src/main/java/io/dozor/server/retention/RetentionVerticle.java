package io.dozor.server.retention;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.index.EsClient;
import io.dozor.server.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link Retention} at start (so the partitions ahead exist) and then {@code retention.interval}
 * after each run ends; every server runs the timer, the advisory lock lets one of them work. One INFO
 * line per run with the counts; the counts also go to {@code /metrics}.
 */
public final class RetentionVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(RetentionVerticle.class);

    private final ServerConfig config;
    private final Pool pool;
    private final Clock clock;
    private EsClient es;
    private Retention retention;
    private long timer = -1;
    private boolean stopped;

    public RetentionVerticle(ServerConfig config, Pool pool, Clock clock) {
        this.config = config;
        this.pool = pool;
        this.clock = clock;
    }

    @Override
    public Future<?> start() {
        for (String result : java.util.List.of("done", "skipped", "failed")) {
            Meters.retentionRun(result, 0);
        }
        Retention.WHAT.forEach(what -> Meters.retentionRemoved(what, 0));
        // the client is built on a worker: its first use loads thousands of classes
        return vertx.executeBlocking(
                        () -> es = EsClient.connect(config.elasticsearch().urls()))
                .onSuccess(client -> {
                    retention = new Retention(pool, client.async(), context, config, clock);
                    runNow();
                });
    }

    private void runNow() {
        retention
                .run(false)
                .onSuccess(RetentionVerticle::record)
                .onFailure(err -> {
                    Meters.retentionRun("failed", 1);
                    log.warn("retention run failed [error={}]", err.getMessage());
                })
                .onComplete(ar -> {
                    if (!stopped) {
                        timer = vertx.setTimer(config.retention().interval().toMillis(), id -> runNow());
                    }
                });
    }

    static void record(Retention.Report report) {
        if (report.skipped()) {
            Meters.retentionRun("skipped", 1);
            log.info("retention skipped: another instance holds the lock");
            return;
        }
        report.problems().forEach(p -> log.warn("retention: {}", p));
        Meters.retentionRun(report.problems().isEmpty() ? "done" : "failed", 1);
        report.removed().forEach(Meters::retentionRemoved);
        log.info(
                "retention run [cutoff={}, created={}, dropped={}, deleted_indices={}, problems={}] {}",
                report.cutoff().map(Object::toString).orElse("none (retention.days=0)"),
                report.created(),
                report.partitions().stream().map(Retention.Gone::name).toList(),
                report.indices().stream().map(Retention.Gone::name).toList(),
                report.problems().size(),
                Retention.counts(report));
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        vertx.cancelTimer(timer);
        return vertx.executeBlocking(() -> {
            if (es != null) {
                es.close();
            }
            return null;
        });
    }
}
