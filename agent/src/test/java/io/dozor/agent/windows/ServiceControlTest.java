package io.dozor.agent.windows;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.platform.win32.Winsvc;
import io.dozor.agent.Agent;
import io.dozor.agent.AgentConfig;
import io.dozor.agent.EventQueue;
import io.dozor.agent.InMemoryEventQueue;
import io.dozor.agent.LaunchEvent;
import io.dozor.agent.windows.ServiceControl.Status;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ServiceControlTest {

    /** What happened, in order: the statuses reported ("STOPPED") and the agent's steps. */
    private final List<String> events = new CopyOnWriteArrayList<>();

    private final List<Status> statuses = new CopyOnWriteArrayList<>();
    private final ServiceControl.StatusReporter scm = s -> {
        statuses.add(s);
        events.add(name(s.state()));
    };

    @Test
    void startsReportsRunningThenOnStopStopsTheAgentBeforeReportingStopped() throws Exception {
        ServiceControl control = new ServiceControl(scm, () -> events.add("agent started"), () -> {
            events.add("agent stopped");
            events.add("spool closed");
        });
        Thread main = serviceMain(control);
        awaitState(Winsvc.SERVICE_RUNNING);

        assertThat(control.control(Winsvc.SERVICE_CONTROL_STOP)).isEqualTo(ServiceControl.NO_ERROR);
        main.join(5_000);

        assertThat(main.isAlive()).isFalse();
        assertThat(events)
                .containsExactly(
                        "START_PENDING",
                        "agent started",
                        "RUNNING",
                        "STOP_PENDING",
                        "agent stopped",
                        "spool closed",
                        "STOPPED");
        assertThat(statuses.get(1).accepted())
                .isEqualTo(Winsvc.SERVICE_ACCEPT_STOP
                        | Winsvc.SERVICE_ACCEPT_SHUTDOWN
                        | Winsvc.SERVICE_ACCEPT_PRESHUTDOWN);
        assertThat(statuses).extracting(Status::checkPoint).containsExactly(1, 0, 1, 0);
        assertThat(statuses).extracting(Status::waitHintMs).containsExactly(30_000, 0, 30_000, 0);
        assertThat(statuses.get(3).win32ExitCode()).isZero();
    }

    @Test
    void theHandlerReturnsAtOnceWhileTheAgentStopsOnTheServiceMainThread() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ServiceControl control = new ServiceControl(scm, () -> {}, () -> {
            events.add("stopping on " + Thread.currentThread().getName());
            await(release);
        });
        Thread main = serviceMain(control);
        awaitState(Winsvc.SERVICE_RUNNING);

        assertThat(control.control(Winsvc.SERVICE_CONTROL_STOP)).isEqualTo(ServiceControl.NO_ERROR);
        assertThat(events).doesNotContain("STOPPED");
        release.countDown();
        main.join(5_000);

        assertThat(events).contains("stopping on service-main").endsWith("STOPPED");
    }

    @Test
    void shutdownAndPreshutdownStopItToo() throws Exception {
        for (int code : new int[] {Winsvc.SERVICE_CONTROL_SHUTDOWN, Winsvc.SERVICE_CONTROL_PRESHUTDOWN}) {
            events.clear();
            statuses.clear();
            ServiceControl control = new ServiceControl(scm, () -> {}, () -> events.add("agent stopped"));
            Thread main = serviceMain(control);
            awaitState(Winsvc.SERVICE_RUNNING);

            assertThat(control.control(code)).isEqualTo(ServiceControl.NO_ERROR);
            main.join(5_000);

            assertThat(events).endsWith("STOP_PENDING", "agent stopped", "STOPPED");
        }
    }

    @Test
    void aSecondStopRequestAndRequestsAfterStoppedReportNothing() throws Exception {
        ServiceControl control = new ServiceControl(scm, () -> {}, () -> events.add("agent stopped"));
        Thread main = serviceMain(control);
        awaitState(Winsvc.SERVICE_RUNNING);

        control.control(Winsvc.SERVICE_CONTROL_STOP);
        control.control(Winsvc.SERVICE_CONTROL_PRESHUTDOWN);
        main.join(5_000);
        control.control(Winsvc.SERVICE_CONTROL_STOP);

        assertThat(events).containsExactly("START_PENDING", "RUNNING", "STOP_PENDING", "agent stopped", "STOPPED");
    }

    @Test
    void interrogateIsAnsweredAndOtherControlsAreNotImplemented() {
        ServiceControl control = new ServiceControl(scm, () -> {}, () -> {});

        assertThat(control.control(Winsvc.SERVICE_CONTROL_INTERROGATE)).isEqualTo(ServiceControl.NO_ERROR);
        assertThat(control.control(Winsvc.SERVICE_CONTROL_PAUSE)).isEqualTo(ServiceControl.ERROR_CALL_NOT_IMPLEMENTED);
        assertThat(statuses).isEmpty();
    }

    @Test
    void aFailedStartReportsStoppedWithAServiceSpecificErrorAndDoesNotStop() {
        ServiceControl control = new ServiceControl(
                scm,
                () -> {
                    throw new IllegalStateException("spool cannot be opened");
                },
                () -> events.add("agent stopped"));

        control.serviceMain();

        assertThat(events).containsExactly("START_PENDING", "STOPPED");
        assertThat(statuses.get(1).win32ExitCode()).isEqualTo(ServiceControl.ERROR_SERVICE_SPECIFIC_ERROR);
        assertThat(statuses.get(1).serviceExitCode()).isEqualTo(1);
    }

    @Test
    void aFailedStopStillReportsStopped() throws Exception {
        ServiceControl control = new ServiceControl(scm, () -> {}, () -> {
            throw new IllegalStateException("boom");
        });
        Thread main = serviceMain(control);
        awaitState(Winsvc.SERVICE_RUNNING);

        control.control(Winsvc.SERVICE_CONTROL_STOP);
        main.join(5_000);

        assertThat(events).endsWith("STOPPED");
        assertThat(statuses)
                .last()
                .extracting(Status::win32ExitCode)
                .isEqualTo(ServiceControl.ERROR_SERVICE_SPECIFIC_ERROR);
    }

    @Test
    void theRealAgentClosesItsQueueBeforeStoppedIsReported() throws Exception {
        FakeWindowsApi windows =
                new FakeWindowsApi().start(600, "C:\\Windows\\explorer.exe", Instant.now(), "PC-01\\ivanov", 1, 500);
        AgentConfig config = AgentConfig.builder()
                .serverUrl(URI.create("https://127.0.0.1:9/"))
                .token("tok")
                .pollInterval(Duration.ofMillis(50))
                .build();
        Agent agent =
                new Agent(config, new WindowsProcessSource(windows), Clock.systemUTC(), "PC-01", new RecordingQueue());
        ServiceControl control = new ServiceControl(scm, agent::start, agent::close);
        Thread main = serviceMain(control);
        awaitState(Winsvc.SERVICE_RUNNING);

        control.control(Winsvc.SERVICE_CONTROL_STOP);
        main.join(10_000);

        assertThat(events).containsSubsequence("RUNNING", "STOP_PENDING", "queue closed", "STOPPED");
    }

    /** An in-memory queue that notes when it is closed. */
    private final class RecordingQueue implements EventQueue {
        private final InMemoryEventQueue queue = new InMemoryEventQueue();

        @Override
        public boolean offer(LaunchEvent event) {
            return queue.offer(event);
        }

        @Override
        public List<LaunchEvent> peek(int max) {
            return queue.peek(max);
        }

        @Override
        public void acknowledge(List<LaunchEvent> batch) {
            queue.acknowledge(batch);
        }

        @Override
        public int size() {
            return queue.size();
        }

        @Override
        public long dropped() {
            return queue.dropped();
        }

        @Override
        public boolean awaitNonEmpty(Duration timeout) throws InterruptedException {
            return queue.awaitNonEmpty(timeout);
        }

        @Override
        public void close() {
            queue.close();
            events.add("queue closed");
        }
    }

    private static Thread serviceMain(ServiceControl control) {
        Thread t = new Thread(control::serviceMain, "service-main");
        t.start();
        return t;
    }

    private void awaitState(int state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (statuses.stream().noneMatch(s -> s.state() == state)) {
            assertThat(System.nanoTime())
                    .as("state " + name(state) + " reported")
                    .isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String name(int state) {
        return switch (state) {
            case Winsvc.SERVICE_STOPPED -> "STOPPED";
            case Winsvc.SERVICE_START_PENDING -> "START_PENDING";
            case Winsvc.SERVICE_STOP_PENDING -> "STOP_PENDING";
            case Winsvc.SERVICE_RUNNING -> "RUNNING";
            default -> "state " + state;
        };
    }
}
