package io.kubevmm.node.lifecycle;

import io.kubevmm.node.console.ConsoleLog;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.lifecycle.VmObservation.Failure;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Carries out one lifecycle step against the engine and the VM's emulator. Only the doing: which
 * step comes next, and which machine state it leaves, {@link Lifecycle} computes. Runs on the VM
 * thread.
 */
final class LifecycleSteps {
    private static final Logger LOG = Logger.getLogger(LifecycleSteps.class);

    /** A step that failed before it touched anything: the machine is as it was. */
    static final class NotBegun extends EngineException {
        NotBegun(String message, Throwable cause) {
            super(Reason.OperationFailed, message, cause);
        }
    }

    private final VmRunner runner;
    private final VmState vm;
    private final VmmEngine engine;
    private final GuestReadiness readiness;
    private final RunnerTime time;
    private volatile CompletableFuture<Void> powerOffSeen = new CompletableFuture<>();

    LifecycleSteps(VmRunner runner, VmState vm, VmmEngine engine, GuestReadiness readiness, RunnerTime time) {
        this.runner = runner;
        this.vm = vm;
        this.engine = engine;
        this.readiness = readiness;
        this.time = time;
    }

    void perform(Action action) throws EngineException {
        switch (action) {
            case CREATE -> {
                runner.attach(engine.create(vm.config));
                vm.record = new RuntimeRecord(time.now(), null, null, null, 0, vm.record.restartCount());
            }
            case START -> boot(false);
            case PAUSE -> vm.instance.pause();
            case RESUME -> {
                vm.instance.resume();
                deleteQuietly(vm.config.suspendStateFile()); // the restored guest now runs: its saved copy is stale
            }
            case SAVE_TO_DISK -> saveToDisk();
            case RESTORE_FROM_DISK -> runner.attach(engine.restore(vm.config));
            case POWER_DOWN -> powerDown();
            case RECREATE, FINISH, FAIL -> runner.release();
            case RESTART_GUEST -> {
                if (vm.instance != null) {
                    vm.instance.reset();
                } else {
                    runner.attach(engine.create(vm.config));
                }
                boot(true);
            }
            case DISCARD_SAVED_STATE -> deleteQuietly(vm.config.suspendStateFile());
            case NONE, MIGRATE_OUT -> { }
        }
    }

    /** The emulator reported that the guest powered off: a waiting power-down ends at once. Any thread. */
    void guestPoweredOff() {
        powerOffSeen.complete(null);
    }

    /** Why a step failed, in the words conditions use. */
    static Failure failure(EngineException e, Instant at) {
        return new Failure(switch (e.reason()) {
            case MissingFile -> "MissingFile";
            case EmulatorFailed -> "EmulatorFailed";
            case StateUnusable -> "SavedStateUnusable";
            case OperationFailed -> "OperationFailed";
            case SecretUnavailable -> "SecretUnavailable";
            case NetworkUnavailable -> "NetworkUnavailable";
        }, e.getMessage(), at);
    }

    private void boot(boolean restart) throws EngineException {
        long offset = ConsoleLog.size(vm.config.consoleLog());
        long startNanos = System.nanoTime();
        vm.instance.resume();
        readiness.booted(offset, startNanos, restart);
    }

    private void saveToDisk() throws EngineException {
        VmmInstance current = vm.instance;
        try {
            // QEMU finishes a save on its own: a runtime restarted meanwhile must know one was under way.
            OperationIntent.suspendToDisk(vm.machine == MachineState.RUNNING).write(vm.config.stateDir());
        } catch (IOException e) {
            throw new NotBegun("cannot record the suspend in " + vm.config.stateDir()
                    + " (needed to recover from a crash): " + e.getMessage(), e);
        }
        vm.instance = null;
        vm.agent.detach(); // the process ends with the save
        try {
            long bytes = current.saveState();
            LOG.infof("%s saved %d bytes of state to %s", vm.config.id(), bytes, vm.config.suspendStateFile());
        } catch (EngineException e) {
            vm.instance = current; // the guest is still there, paused: keep it
            vm.agent.attach(current.config().hasGuestAgentChannel() ? current.config().guestAgentSocket() : null,
                    current.guestAgentChannelOpen());
            throw e;
        } finally {
            OperationIntent.clear(vm.config.stateDir());
        }
    }

    /**
     * Guest agent, ACPI power button, then the end of the process, each until its share of the
     * grace period ({@link GracefulStop}); records which way brought the guest down.
     */
    private void powerDown() {
        powerOffSeen = new CompletableFuture<>();
        long began = System.nanoTime();
        for (GracefulStop.Step step : GracefulStop.plan(vm.stopGrace, vm.agent != null && vm.agent.connected())) {
            switch (step.way()) {
                case AGENT -> {
                    if (!vm.agent.shutdown()) {
                        continue; // refused or gone: ACPI gets its time
                    }
                }
                case ACPI -> {
                    try {
                        vm.instance.requestPowerDown();
                    } catch (EngineException e) {
                        LOG.debugf("%s power-down: %s", vm.config.id(), e.getMessage());
                        continue;
                    }
                }
                case KILL -> {
                    LOG.infof("%s did not power off within %s; ending its process", vm.config.id(), vm.stopGrace);
                    stopped(step.way(), began);
                    runner.release();
                    return;
                }
            }
            if (awaitPowerOff(step.until().minusNanos(System.nanoTime() - began))) {
                stopped(step.way(), began);
                runner.release();
                return;
            }
            LOG.infof("%s did not power off %s in time; next way", vm.config.id(), step.way().words);
        }
        runner.release();
    }

    private boolean awaitPowerOff(java.time.Duration wait) {
        try {
            powerOffSeen.get(Math.max(0, wait.toMillis()), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (Exception e) {
            LOG.debugf("%s power-down: %s", vm.config.id(), e.getMessage());
            return false;
        }
    }

    private void stopped(GracefulStop.Way way, long began) {
        long millis = (System.nanoTime() - began) / 1_000_000;
        String message = way == GracefulStop.Way.KILL
                ? "guest did not power off within its grace period (" + vm.stopGrace.toSeconds() + "s); stopped " + way.words
                : "guest powered off " + way.words + " in " + millis + " ms";
        vm.lastStop = new VmObservation.Stop(switch (way) {
            case AGENT -> "agent";
            case ACPI -> "acpi";
            case KILL -> "killed";
        }, message, time.now());
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warnf("cannot delete %s: %s", file, e.getMessage());
        }
    }
}
