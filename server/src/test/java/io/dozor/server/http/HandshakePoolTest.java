package io.dozor.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HandshakePoolTest {

    /** Stands for Netty's delegated TLS task: the pool tells handshake steps by their class's package. */
    static Runnable handshakeStep(Runnable body) {
        return new io.netty.handler.ssl.DozorHandshakeStepForTests(body);
    }

    static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> new Thread(r, prefix + n.getAndIncrement());
    }

    @Test
    void theInternalBlockingPoolRefusesHandshakeStepsBeyondItsBoundAndNothingElse() throws Exception {
        ExecutorService pool = new HandshakePool(2).createExecutor(named(HandshakePool.INTERNAL_BLOCKING_PREFIX), 1, 1);
        try {
            assertThat(pool).isInstanceOf(HandshakePool.Executor.class);
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            AtomicInteger ran = new AtomicInteger();
            // the one thread is busy; two steps may wait, the third is refused
            pool.execute(handshakeStep(() -> {
                started.countDown();
                await(release);
                ran.incrementAndGet();
            }));
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            pool.execute(handshakeStep(ran::incrementAndGet));
            pool.execute(handshakeStep(ran::incrementAndGet));
            assertThat(((HandshakePool.Executor) pool).waiting()).isEqualTo(2);
            assertThatThrownBy(() -> pool.execute(handshakeStep(ran::incrementAndGet)))
                    .isInstanceOf(RejectedExecutionException.class)
                    .hasMessageContaining("2 handshake steps are already waiting");
            // other internal work (a file read) is queued whatever the handshakes do
            pool.execute(ran::incrementAndGet);
            release.countDown();
            pool.shutdown();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ran).hasValue(4);
            assertThat(((HandshakePool.Executor) pool).waiting()).isZero();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aStepThatHasStartedNoLongerCountsAsWaiting() throws Exception {
        ExecutorService pool = new HandshakePool(1).createExecutor(named(HandshakePool.INTERNAL_BLOCKING_PREFIX), 1, 1);
        try {
            for (int i = 0; i < 50; i++) { // one at a time: never more than one waiting
                CountDownLatch done = new CountDownLatch(1);
                pool.execute(handshakeStep(done::countDown));
                assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void otherPoolsAreMadeAsVertxMakesThem() {
        ExecutorService worker = new HandshakePool(1).createExecutor(named("vert.x-worker-thread-"), 20, 20);
        try {
            assertThat(worker).isNotInstanceOf(HandshakePool.Executor.class);
            assertThat(((ThreadPoolExecutor) worker).getMaximumPoolSize()).isEqualTo(20);
        } finally {
            worker.shutdownNow();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
