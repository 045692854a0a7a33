package io.dozor.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AgentBucketsTest {
    static final long SECOND = 1_000_000_000L;
    final AtomicLong clock = new AtomicLong(42 * SECOND);

    @Test
    void aBurstPassesThenTheRateWithTheExactWait() {
        AgentBuckets buckets = new AgentBuckets(100, 1_000, clock::get);
        assertThat(buckets.take("pc-01", 600)).isZero();
        assertThat(buckets.take("pc-01", 400)).isZero();
        // empty: 500 more need 5 s at 100/s, and nothing is taken by the refusal
        assertThat(buckets.take("pc-01", 500)).isEqualTo(5 * SECOND);
        assertThat(buckets.waitFor("pc-01", 1)).isEqualTo(SECOND / 100);
        clock.addAndGet(2 * SECOND);
        assertThat(buckets.take("pc-01", 500)).isEqualTo(3 * SECOND);
        assertThat(buckets.take("pc-01", 200)).isZero();
        clock.addAndGet(5 * SECOND);
        assertThat(buckets.take("pc-01", 500)).isZero();
        assertThat(buckets.take("pc-01", 1)).isEqualTo(SECOND / 100);
    }

    @Test
    void eachAgentHasItsOwnBucket() {
        AgentBuckets buckets = new AgentBuckets(10, 1_000, clock::get);
        assertThat(buckets.take("flooder", 1_000)).isZero();
        assertThat(buckets.take("flooder", 1)).isPositive();
        assertThat(buckets.take("quiet", 1_000)).isZero();
    }

    @Test
    void aRequestLargerThanTheBurstWaitsForAFullBucketNotForEver() {
        AgentBuckets buckets = new AgentBuckets(10, 1_000, clock::get);
        assertThat(buckets.take("pc-01", 5_000)).isZero();
        assertThat(buckets.take("pc-01", 5_000)).isEqualTo(100 * SECOND);
    }

    @Test
    void waitForTakesNothing() {
        AgentBuckets buckets = new AgentBuckets(10, 1_000, clock::get);
        for (int i = 0; i < 10; i++) {
            assertThat(buckets.waitFor("pc-01", 1_000)).isZero();
        }
        assertThat(buckets.take("pc-01", 1_000)).isZero();
        assertThat(buckets.waitFor("pc-01", 1)).isEqualTo(SECOND / 10);
    }

    @Test
    void rateZeroIsNoLimitAndKeepsNothing() {
        AgentBuckets buckets = new AgentBuckets(0, 1_000, clock::get);
        for (int i = 0; i < 100; i++) {
            assertThat(buckets.take("pc-" + i, 1_000)).isZero();
        }
        assertThat(buckets.size()).isZero();
    }

    @Test
    void bucketsOfIdleAgentsAreDropped() {
        AgentBuckets buckets = new AgentBuckets(100, 1_000, clock::get);
        for (int i = 0; i < 10_000; i++) {
            buckets.take("pc-" + i, 1);
        }
        assertThat(buckets.size()).isEqualTo(10_000);
        // 10 s at 100/s refills 1000: every bucket is full again, the same as none
        clock.addAndGet(10 * SECOND);
        for (int i = 0; i < AgentBuckets.SWEEP_EVERY; i++) {
            buckets.take("busy", 1);
        }
        assertThat(buckets.size()).isEqualTo(1);
        // a bucket that is not full stays, with its debt
        buckets.take("busy", 900);
        buckets.sweep();
        assertThat(buckets.take("busy", 100)).isPositive();
    }

    @Test
    void concurrentTakesNeverGrantMoreThanTheBucketHolds() throws InterruptedException {
        AgentBuckets buckets = new AgentBuckets(100, 1_000, clock::get); // the clock stands still
        AtomicInteger granted = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 5_000; i++) {
                    if (buckets.take("pc-01", 1) == 0) {
                        granted.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(granted.get()).isEqualTo(1_000);
    }
}
