package io.dozor.agent.windows;

import com.sun.jna.platform.win32.Winsvc;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's states and their order, apart from the service control manager calls ({@link WindowsService}
 * wires them to it) so that a fake {@link StatusReporter} tests them:
 * <ol>
 *   <li>{@link #serviceMain} (the SCM's service-main thread): START_PENDING, start the agent, RUNNING accepting
 *       stop, shutdown and preshutdown; then it waits for a stop request;
 *   <li>{@link #control} (the dispatcher thread) answers a stop, shutdown or preshutdown at once: STOP_PENDING,
 *       wakes the service-main thread and returns (a handler must not block: the SCM waits for it);
 *   <li>the service-main thread stops the agent (its last shipping attempt, then the spool is closed) and only
 *       then reports STOPPED: after STOPPED the SCM may end the process at any moment.
 * </ol>
 * A start that fails reports STOPPED with a service-specific error, so that the recovery actions
 * ({@code sc failure}) apply. Nothing is reported after STOPPED. Reports from both threads are serialised.
 */
final class ServiceControl {

    private static final Logger log = LoggerFactory.getLogger(ServiceControl.class);

    static final int NO_ERROR = 0;
    static final int ERROR_CALL_NOT_IMPLEMENTED = 120;
    static final int ERROR_SERVICE_SPECIFIC_ERROR = 1066;
    static final int ACCEPTED =
            Winsvc.SERVICE_ACCEPT_STOP | Winsvc.SERVICE_ACCEPT_SHUTDOWN | Winsvc.SERVICE_ACCEPT_PRESHUTDOWN;
    static final int WAIT_HINT_MS = 30_000;

    /** One {@code SetServiceStatus} call's content. */
    record Status(int state, int accepted, int win32ExitCode, int serviceExitCode, int checkPoint, int waitHintMs) {}

    /** {@code SetServiceStatus}. */
    interface StatusReporter {
        void report(Status status);
    }

    private final StatusReporter reporter;
    private final Runnable start;
    private final Runnable stop;
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private int checkPoint;
    private boolean stopped;

    ServiceControl(StatusReporter reporter, Runnable start, Runnable stop) {
        this.reporter = reporter;
        this.start = start;
        this.stop = stop;
    }

    /** The service's main function: returns once STOPPED has been reported. */
    void serviceMain() {
        report(Winsvc.SERVICE_START_PENDING, 0, NO_ERROR);
        try {
            start.run();
        } catch (RuntimeException e) {
            log.error("service start failed [error={}]", e.getMessage(), e);
            report(Winsvc.SERVICE_STOPPED, 0, ERROR_SERVICE_SPECIFIC_ERROR);
            return;
        }
        report(Winsvc.SERVICE_RUNNING, ACCEPTED, NO_ERROR);
        boolean interrupted = false;
        while (true) {
            try {
                stopRequested.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // only a stop request ends the service
            }
        }
        int exit = NO_ERROR;
        try {
            stop.run();
        } catch (RuntimeException e) {
            log.error("service stop failed [error={}]", e.getMessage(), e);
            exit = ERROR_SERVICE_SPECIFIC_ERROR;
        } finally {
            report(Winsvc.SERVICE_STOPPED, 0, exit);
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The control handler: what {@code HandlerEx} returns for {@code control}. Never blocks. */
    int control(int control) {
        switch (control) {
            case Winsvc.SERVICE_CONTROL_STOP, Winsvc.SERVICE_CONTROL_SHUTDOWN, Winsvc.SERVICE_CONTROL_PRESHUTDOWN -> {
                synchronized (this) {
                    if (stopRequested.getCount() > 0 && !stopped) {
                        log.info("service stop requested [control={}]", control);
                        report(Winsvc.SERVICE_STOP_PENDING, 0, NO_ERROR);
                        stopRequested.countDown();
                    }
                }
                return NO_ERROR;
            }
            case Winsvc.SERVICE_CONTROL_INTERROGATE -> {
                return NO_ERROR;
            }
            default -> {
                return ERROR_CALL_NOT_IMPLEMENTED;
            }
        }
    }

    private synchronized void report(int state, int accepted, int exit) {
        if (stopped) {
            return;
        }
        boolean pending = state == Winsvc.SERVICE_START_PENDING || state == Winsvc.SERVICE_STOP_PENDING;
        checkPoint = pending ? checkPoint + 1 : 0;
        stopped = state == Winsvc.SERVICE_STOPPED;
        reporter.report(new Status(
                state,
                accepted,
                exit,
                exit == ERROR_SERVICE_SPECIFIC_ERROR ? 1 : 0,
                checkPoint,
                pending ? WAIT_HINT_MS : 0));
    }
}
