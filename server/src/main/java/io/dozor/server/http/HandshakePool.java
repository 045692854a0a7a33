package io.dozor.server.http;

import io.dozor.server.ops.Meters;
import io.vertx.core.spi.ExecutorServiceFactory;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where the ingest listener's TLS handshakes run, and how many may wait. The listener hands each handshake's costly
 * steps (Netty's {@code SslHandler} delegated tasks: key exchange, signature) to Vert.x's internal blocking pool,
 * which this factory makes: {@code threads} threads, as Vert.x sizes it, with at most {@code maxWaiting} handshake
 * steps queued. One more is refused ({@link RejectedExecutionException}: Netty fails that handshake and the
 * connection closes at once, counted as {@code dozor_http_connections_closed_total{reason="tls_handshake_queue"}}).
 *
 * <p>Why a bound: when thousands of agents reconnect at once (a server restart), handshakes arrive faster than the
 * CPU completes them. Unbounded, every handshake waits behind all the others, and past the handshake timeout all of
 * them fail after costing their CPU: nothing connects. Bounded, the handshakes admitted finish in time, the others
 * are refused for the price of a TCP accept, and their agents retry after a jittered backoff; the fleet connects at
 * the rate the CPU allows. Other internal work (file reads) is never refused.
 *
 * <p>Vert.x's other pools (the worker pool) are made as Vert.x makes them.
 */
public final class HandshakePool implements ExecutorServiceFactory {
    /** The names Vert.x gives the internal blocking pool's threads. */
    static final String INTERNAL_BLOCKING_PREFIX = "vert.x-internal-blocking-";
    /** The package of Netty's TLS handler, whose delegated tasks are the handshake steps. */
    private static final String NETTY_SSL = "io.netty.handler.ssl.";

    private final int maxWaiting;

    public HandshakePool(int maxWaiting) {
        this.maxWaiting = maxWaiting;
    }

    @Override
    public ExecutorService createExecutor(ThreadFactory threadFactory, Integer concurrency, Integer maxConcurrency) {
        if (!makesInternalBlockingThreads(threadFactory)) {
            return ExecutorServiceFactory.INSTANCE.createExecutor(threadFactory, concurrency, maxConcurrency);
        }
        return new Executor(maxConcurrency, threadFactory, maxWaiting);
    }

    /** Tells the pools apart by the name of a thread the factory makes (never started). */
    private static boolean makesInternalBlockingThreads(ThreadFactory threadFactory) {
        return threadFactory.newThread(() -> {}).getName().startsWith(INTERNAL_BLOCKING_PREFIX);
    }

    /** The internal blocking pool: a fixed pool whose queue takes at most {@code maxWaiting} handshake steps. */
    static final class Executor extends ThreadPoolExecutor {
        private final int maxWaiting;
        private final AtomicInteger waiting = new AtomicInteger();

        Executor(int threads, ThreadFactory threadFactory, int maxWaiting) {
            super(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), threadFactory);
            this.maxWaiting = maxWaiting;
        }

        @Override
        public void execute(Runnable task) {
            if (!task.getClass().getName().startsWith(NETTY_SSL)) {
                super.execute(task);
                return;
            }
            if (waiting.incrementAndGet() > maxWaiting) {
                waiting.decrementAndGet();
                Meters.connectionClosed("tls_handshake_queue");
                throw new RejectedExecutionException(
                        "TLS handshake refused: " + maxWaiting + " handshake steps are already waiting");
            }
            try {
                super.execute(() -> {
                    waiting.decrementAndGet();
                    task.run();
                });
            } catch (RejectedExecutionException e) { // shut down
                waiting.decrementAndGet();
                throw e;
            }
        }

        /** Handshake steps queued and not started. */
        int waiting() {
            return waiting.get();
        }
    }
}
