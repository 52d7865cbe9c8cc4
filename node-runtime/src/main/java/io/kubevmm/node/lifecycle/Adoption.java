package io.kubevmm.node.lifecycle;

import io.kubevmm.node.engine.EmulatorUnreachableException;
import io.kubevmm.node.engine.ProcessLiveness;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.lifecycle.VmObservation.Failure;
import org.jboss.logging.Logger;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Re-attaches a runner to what an earlier node runtime left in the VM's state dir: a live
 * emulator (adopted, never started a second time), state saved to disk, or an operation QEMU went
 * on with alone ({@link OperationIntent}). An emulator that is alive but does not answer is left
 * running and adopted again later, with backoff. Runs on the VM thread.
 */
final class Adoption {
    private static final Logger LOG = Logger.getLogger(Adoption.class);
    static final Backoff RETRY = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(1));
    private static final String UNREACHABLE = "EmulatorUnreachable";

    private final VmRunner runner;
    private final VmState vm;
    private final VmmEngine engine;
    private final GuestReadiness readiness;
    private int attempts;

    Adoption(VmRunner runner, VmState vm, VmmEngine engine, GuestReadiness readiness) {
        this.runner = runner;
        this.vm = vm;
        this.engine = engine;
        this.readiness = readiness;
    }

    void adopt() {
        RuntimeRecord.read(vm.config.stateDir()).ifPresent(r -> vm.record = r);
        OperationIntent intent = OperationIntent.read(vm.config.stateDir()).orElse(null);
        Optional<VmmInstance> adopted;
        try {
            adopted = engine.adopt(vm.config);
        } catch (EmulatorUnreachableException e) {
            leaveUnreachable(e);
            runner.changed();
            return;
        }
        if (intent != null && intent.operation() == OperationIntent.Operation.SuspendToDisk) {
            new SaveRecovery(runner).recover(intent, adopted.orElse(null));
            runner.changed();
            return;
        }
        if (intent != null) {
            // QEMU may have sent the guest away, or still be sending it: only the target's facts
            // tell which copy is the guest (SourceMigrations settles it). Nothing is ended meanwhile.
            vm.pendingMigration = intent;
            LOG.infof("%s: an outgoing migration (%s to %s) was under way when the node runtime stopped; holding the VM until it is settled",
                    vm.config.id(), intent.migrationName(), intent.targetNode());
        }
        if (adopted.isPresent()) {
            take(adopted.get());
        } else if (Files.exists(vm.config.suspendStateFile())) {
            vm.machine = MachineState.SAVED_TO_DISK;
        } else if (vm.pendingMigration != null) {
            vm.machine = MachineState.CRASHED; // no emulator here; whether the guest lives on the target is settled later
        }
        runner.changed();
    }

    private void take(VmmInstance found) {
        runner.attach(found);
        vm.machine = MachineState.of(found.runState());
        if (vm.machine == MachineState.MIGRATED && vm.pendingMigration == null) {
            // Its guest completed a migration and runs elsewhere: this copy must never resume.
            LOG.infof("QEMU %d of %s finished a migration away; ending it", found.pid(), vm.config.id());
            runner.release();
            return;
        }
        if (vm.machine == MachineState.RUNNING && vm.record.guestReadyTime() == null) {
            readiness.watch(vm.record.consoleOffset());
        }
        LOG.infof("adopted QEMU %d of %s (%s)", found.pid(), vm.config.id(), vm.machine);
    }

    /**
     * An emulator of this VM is alive but does not answer. It is neither killed (it may hold the
     * guest's only memory) nor joined by a second emulator; the reason goes into status and
     * adoption is tried again with backoff.
     */
    private void leaveUnreachable(EmulatorUnreachableException e) {
        vm.machine = MachineState.UNREACHABLE;
        vm.unreachable = e.process();
        attempts++;
        Duration delay = RETRY.delay(attempts);
        // One wording for every attempt: the status (and its Event) changes only when something did.
        vm.lastFailure = new Failure(UNREACHABLE, e.getMessage() + "; it is left running (it may hold the guest's"
                + " only memory) and adoption is retried with backoff; delete the VM to end it", runner.now());
        LOG.warnf("%s (attempt %d; next in %d s)", vm.lastFailure.message(), attempts, delay.toSeconds());
        runner.after(delay, this::retry);
    }

    private void retry() {
        if (vm.machine != MachineState.UNREACHABLE) {
            return; // deleted meanwhile
        }
        adopt();
        if (vm.machine != MachineState.UNREACHABLE) {
            vm.unreachable = null;
            attempts = 0;
            if (vm.lastFailure != null && UNREACHABLE.equals(vm.lastFailure.reason())) {
                vm.lastFailure = null;
            }
            runner.changed();
            runner.scheduleDrive();
        }
    }

    /** The user deleted the VM: an emulator that never answered is ended now, by that decision. */
    void endUnreachable() {
        ProcessHandle process = vm.unreachable;
        if (process != null && vm.machine == MachineState.UNREACHABLE) {
            LOG.infof("%s is deleted: ending QEMU %d, which never answered", vm.config.id(), process.pid());
            process.destroyForcibly();
            ProcessLiveness.exited(process).orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join();
            vm.unreachable = null;
        }
    }
}
