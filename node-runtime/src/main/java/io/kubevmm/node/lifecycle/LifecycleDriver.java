package io.kubevmm.node.lifecycle;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.VmEvent;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.lifecycle.VmObservation.RestartWait;
import org.jboss.logging.Logger;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;

/**
 * Moves a VM towards its desired state, on the VM thread: takes the step {@link Lifecycle#next}
 * names, has {@link LifecycleSteps} carry it out, and keeps the machine state {@link Lifecycle}
 * computes for the outcome; guest events go the same way. A failed step is retried with backoff;
 * restarts of a guest that keeps going down wait as {@link RestartBackoff} says.
 */
final class LifecycleDriver {
    private static final Logger LOG = Logger.getLogger(LifecycleDriver.class);
    static final Backoff OPERATION_RETRY = new Backoff(Duration.ofSeconds(2), Duration.ofMinutes(5));

    private final VmRunner runner;
    private final VmState vm;
    private final LifecycleSteps steps;
    private final GuestReadiness readiness;
    private final RunnerTime time;
    private final RestartBackoff backoff = new RestartBackoff();
    private volatile boolean driveQueued;
    private static final Duration BOOT_GATE_RETRY = Duration.ofSeconds(1);
    /** A boot is being held back by the fence gate (logged once). */
    private boolean bootHeld;

    LifecycleDriver(VmRunner runner, VmState vm, LifecycleSteps steps, GuestReadiness readiness, RunnerTime time) {
        this.runner = runner;
        this.vm = vm;
        this.steps = steps;
        this.readiness = readiness;
        this.time = time;
    }

    /** Queues one drive; any thread. */
    void scheduleDrive() {
        if (!driveQueued) {
            driveQueued = true;
            runner.submit(this::drive);
        }
    }

    /** A new spec generation: an ended VM may run again, a failed step is retried now, a crash loop is forgotten. */
    void newGeneration() {
        MachineState before = vm.machine;
        vm.machine = Lifecycle.afterNewGeneration(before, Files.exists(vm.config.suspendStateFile()));
        if (vm.machine != before) {
            vm.lastFailure = null;
        }
        vm.retryNotBefore = Instant.EPOCH;
        backoff.reset();
        vm.restartWait = null;
    }

    private void drive() {
        driveQueued = false;
        if (vm.desired == null || vm.pendingMigration != null) {
            return;
        }
        while (true) {
            Action action = Lifecycle.next(vm.machine, vm.desired);
            if (action == Action.NONE || (action == Action.RESTART_GUEST && restartHeldBack())) {
                return;
            }
            if (fenceGated(action) && !runner.mayBoot()) {
                // Fenced: another node may be starting this guest; asked again until the Lease is held.
                if (!bootHeld) {
                    LOG.warnf("%s: not booting it (highAvailability Restart): this node cannot prove it holds its Lease, "
                            + "or its fence guard does not run; it boots once both hold and the VM is still placed here", vm.config.id());
                    bootHeld = true;
                }
                runner.after(BOOT_GATE_RETRY, this::scheduleDrive);
                return;
            }
            bootHeld = false;
            vm.restartWait = null;
            vm.inFlight = action;
            runner.changed();
            long t0 = System.nanoTime();
            boolean ok = false;
            try {
                steps.perform(action);
                vm.machine = Lifecycle.reached(action, vm.machine);
                ok = true;
                vm.consecutiveFailures = 0;
                if (action == Action.RESTART_GUEST) {
                    backoff.restarted();
                }
                if (vm.lastFailure != null && vm.machine != MachineState.FAILED && vm.machine != MachineState.CRASHED) {
                    vm.lastFailure = null;
                }
                if (Lifecycle.boots(action)) {
                    readiness.watchBoot();
                }
            } catch (EngineException e) {
                onFailure(action, e);
            } finally {
                vm.inFlight = Action.NONE;
                runner.operationDone(action, Duration.ofNanos(System.nanoTime() - t0), ok);
                vm.persist();
                runner.changed();
            }
            if (!ok) {
                return;
            }
        }
    }

    /**
     * The steps that start an emulator or let a guest run: none of them is taken for a guest
     * another node may restart while this node cannot prove it holds its Lease.
     */
    static boolean fenceGated(Action action) {
        return switch (action) {
            case CREATE, START, RECREATE, RESTART_GUEST, RESTORE_FROM_DISK, RESUME -> true;
            default -> false;
        };
    }

    /** True while the crash-loop backoff holds back a restart; the runner wakes itself when it may go ahead. */
    private boolean restartHeldBack() {
        Instant now = time.now();
        RestartWait wait = backoff.holding(now);
        if (wait == null) {
            return false;
        }
        if (!wait.equals(vm.restartWait)) {
            LOG.infof("%s keeps going down; restart %d waits %s, until %s", vm.config.id(), wait.restart(), wait.delay(), wait.at());
            runner.after(Duration.between(now, wait.at()), this::scheduleDrive); // set before the wait shows
            vm.restartWait = wait;
            runner.changed();
        }
        return true;
    }

    private void onFailure(Action action, EngineException e) {
        LOG.warnf("%s: %s failed: %s", vm.config.id(), action, e.getMessage());
        vm.lastFailure = LifecycleSteps.failure(e, time.now());
        MachineState after = Lifecycle.afterFailure(action, vm.machine, !(e instanceof LifecycleSteps.NotBegun), vm.instance != null);
        if (after == MachineState.FAILED) {
            // Nothing runs; retrying the same spec would fail the same way. A new generation retries.
            if (vm.instance != null) {
                runner.release();
            }
        } else {
            vm.consecutiveFailures++;
            vm.retryNotBefore = time.now().plus(OPERATION_RETRY.delay(vm.consecutiveFailures));
        }
        vm.machine = after;
    }

    /** Something the guest or its emulator did on its own. */
    void onEvent(VmmInstance source, VmEvent event) {
        if (source != vm.instance) {
            return; // from a process we already let go of
        }
        LOG.infof("%s: %s", vm.config.id(), event);
        MachineState before = vm.machine;
        Lifecycle.Outcome after = Lifecycle.afterEvent(before, event, time.now());
        switch (event) {
            case VmEvent.GuestReset reset -> readiness.rebooted();
            case VmEvent.ProcessExited exit -> {
                vm.instance = null;
                readiness.cancel();
            }
            default -> { }
        }
        vm.machine = after.machine();
        if (after.failure() != null) {
            vm.lastFailure = after.failure();
        }
        if (isDown(after.machine()) && !isDown(before)) {
            backoff.wentDown(vm.record.startedTime(), time.now());
        }
        vm.persist();
        runner.changed();
        scheduleDrive();
    }

    private static boolean isDown(MachineState m) {
        return m == MachineState.POWERED_OFF || m == MachineState.CRASHED;
    }
}
