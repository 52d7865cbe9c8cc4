package io.kubevmm.node.lifecycle;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.lifecycle.VmObservation.Failure;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * A runner's part in live migration, on the VM thread: sending the guest away (phase Migrating
 * meanwhile), settling an outgoing migration an earlier node runtime left under way, and taking
 * over a guest that arrived here. Which machine state each outcome leaves, {@link Lifecycle} computes.
 */
final class RunnerMigrations {
    private final VmRunner runner;
    private final VmState vm;
    private final GuestReadiness readiness;

    RunnerMigrations(VmRunner runner, VmState vm, GuestReadiness readiness) {
        this.runner = runner;
        this.vm = vm;
        this.readiness = readiness;
    }

    void migrateOut(OperationIntent intent, VmRunner.OutgoingWork work, CompletableFuture<Void> done) {
        if (vm.instance == null || (vm.machine != MachineState.RUNNING && vm.machine != MachineState.PAUSED) || vm.pendingMigration != null) {
            done.completeExceptionally(new EngineException(EngineException.Reason.OperationFailed,
                    "VM " + vm.config.id() + " is " + Lifecycle.phase(vm.machine, vm.inFlight) + ", not running or suspended to memory"
                            + (vm.pendingMigration == null ? "" : " (an earlier migration is not settled yet)")));
            return;
        }
        OperationIntent recorded = new OperationIntent(intent.operation(), intent.migrationName(), intent.migrationUid(),
                intent.targetNode(), intent.startTime(), vm.machine == MachineState.RUNNING);
        try {
            recorded.write(vm.config.stateDir());
        } catch (IOException e) {
            done.completeExceptionally(new EngineException(EngineException.Reason.OperationFailed,
                    "cannot record the migration in " + vm.config.stateDir() + " (needed to recover from a crash): " + e.getMessage(), e));
            return;
        }
        vm.inFlight = Action.MIGRATE_OUT;
        runner.changed();
        long t0 = System.nanoTime();
        try {
            work.run(vm.instance);
            runner.release();
            vm.machine = Lifecycle.reached(Action.MIGRATE_OUT, vm.machine);
            done.complete(null);
        } catch (EngineException | RuntimeException e) {
            Lifecycle.Outcome after = Lifecycle.afterFailedMigration(vm.instance.runState(), runner.now());
            if (after.failure() != null) {
                vm.lastFailure = after.failure();
            }
            if (after.machine() == MachineState.FAILED) {
                runner.release();
            }
            vm.machine = after.machine();
            done.completeExceptionally(e);
        } finally {
            if (vm.machine != MachineState.MIGRATED) {
                OperationIntent.clear(vm.config.stateDir()); // on success the state dir goes once the VMI is handed over
            }
            vm.inFlight = Action.NONE;
            runner.operationDone(Action.MIGRATE_OUT, Duration.ofNanos(System.nanoTime() - t0), done.isDone() && !done.isCompletedExceptionally());
            vm.persist();
            runner.changed();
        }
    }

    /** Carries out the settlement of the pending outgoing migration; see {@link VmRunner#settleMigration}. */
    void settle(RecoveryDecision.MigrationAction action, String detail) throws EngineException {
        OperationIntent intent = vm.pendingMigration;
        boolean wasRunning = intent == null || intent.wasRunning();
        switch (action) {
            case WAIT -> { }
            case CANCEL -> {
                if (vm.instance != null) {
                    vm.instance.outgoing().cancel();
                }
            }
            // The VMI points at the target already; this copy is paused for good and goes with the state dir.
            case HAND_OVER -> runner.release();
            case STAY, RESUME_HERE -> {
                if (vm.instance != null) {
                    RunState now = vm.instance.runState();
                    // QEMU allows cont after a migration, completed (postmigrate) or not.
                    if (now != RunState.RUNNING && (wasRunning || now == RunState.MIGRATED)) {
                        vm.instance.resume();
                    }
                    if (!wasRunning && vm.instance.runState() == RunState.RUNNING) {
                        vm.instance.pause();
                    }
                }
            }
            case LOST -> {
                runner.release();
                vm.lastFailure = new Failure("MigrationInterrupted", detail, runner.now());
            }
        }
        vm.machine = Lifecycle.afterSettlement(action, vm.machine, vm.instance != null, wasRunning);
        if (action != RecoveryDecision.MigrationAction.WAIT && action != RecoveryDecision.MigrationAction.CANCEL) {
            vm.pendingMigration = null;
            OperationIntent.clear(vm.config.stateDir());
            vm.persist();
        }
    }

    /** Makes {@code arrived} this VM's emulator; see {@link VmRunner#takeOver}. */
    void takeOver(VmmInstance arrived, boolean guestReady) {
        runner.attach(arrived);
        vm.machine = MachineState.of(arrived.runState());
        Instant now = runner.now();
        vm.record = new RuntimeRecord(now, now, guestReady ? now : null, null, 0, 0);
        if (!guestReady) {
            readiness.watch(0);
        }
        vm.persist();
    }
}
