package io.kubevmm.node.lifecycle;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.lifecycle.RecoveryDecision.SaveAction;
import io.kubevmm.node.lifecycle.VmObservation.Failure;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;

/**
 * Settles a suspend to disk that was under way when the node runtime stopped: QEMU keeps writing
 * the state stream on its own, so after a restart the save may be complete (the file is given its
 * real name, QEMU ends: the VM is suspended to disk), still running (wait for it), or failed (the
 * partial file goes and the guest gets its vCPUs back as they were). Runs on the VM thread.
 */
final class SaveRecovery {
    private static final Logger LOG = Logger.getLogger(SaveRecovery.class);
    /** As long as a save itself may take (QemuInstance's state transfer timeout). */
    private static final Duration WAIT_AT_MOST = Duration.ofMinutes(10);

    private final VmRunner runner;

    SaveRecovery(VmRunner runner) {
        this.runner = runner;
    }

    static RecoveryDecision.Emulator observe(VmmInstance instance) {
        if (instance == null) {
            return RecoveryDecision.Emulator.GONE;
        }
        RunState state = instance.runState();
        if (state == RunState.GONE) {
            return RecoveryDecision.Emulator.GONE;
        }
        MigrationStatus migration;
        try {
            migration = instance.outgoing().progress(0).status();
        } catch (EngineException e) {
            migration = MigrationStatus.UNKNOWN; // neither in progress nor ended: decides nothing on its own
        }
        return new RecoveryDecision.Emulator(true, state, migration);
    }

    void recover(OperationIntent intent, VmmInstance found) {
        Path complete = runner.config().suspendStateFile();
        Path partial = complete.resolveSibling(complete.getFileName() + ".partial");
        if (found != null) {
            runner.attachRecovered(found);
        }
        long deadline = System.nanoTime() + WAIT_AT_MOST.toNanos();
        SaveAction action;
        while (true) {
            RecoveryDecision.Emulator qemu = observe(runner.instanceNow());
            action = RecoveryDecision.save(qemu, Files.exists(complete));
            LOG.infof("%s: a suspend to disk started %s was interrupted by a node-runtime restart; QEMU %s, migration %s: %s",
                    runner.config().id(), intent.startTime(), qemu.alive() ? qemu.runState() : "gone", qemu.migrationStatus(), action);
            if (action != SaveAction.WAIT) {
                break;
            }
            if (System.nanoTime() > deadline) {
                runner.instanceNow().outgoing().cancel(); // then undone below, like any save that fails
                action = SaveAction.UNDO;
                break;
            }
            QuietSleep.millis(200);
        }
        try {
            switch (action) {
                case FINISH -> finish(partial, complete);
                case UNDO -> undo(intent, partial);
                case LOST -> {
                    deleteQuietly(partial);
                    runner.settled(MachineState.CRASHED, new Failure("SuspendInterrupted", "QEMU ended during a suspend to disk "
                            + "while the node runtime was down, without a complete saved state; the guest's memory is lost", Instant.now()));
                }
                case WAIT -> throw new IllegalStateException("unreachable");
            }
        } catch (EngineException | IOException e) {
            LOG.errorf("%s: settling the interrupted suspend failed: %s", runner.config().id(), e.getMessage());
            runner.settled(runner.instanceNow() == null ? MachineState.CRASHED : MachineState.PAUSED,
                    new Failure("SuspendInterrupted", "settling a suspend interrupted by a node-runtime restart failed: "
                            + e.getMessage(), Instant.now()));
        }
        OperationIntent.clear(runner.config().stateDir());
    }

    private void finish(Path partial, Path complete) throws IOException, EngineException {
        if (Files.exists(partial)) {
            // QEMU said completed: the stream is whole, so the file may now carry the restorable name.
            Files.move(partial, complete, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.exists(complete)) {
            throw new EngineException(EngineException.Reason.StateUnusable, "QEMU completed the save but " + complete + " is missing");
        }
        runner.releaseEmulator();
        runner.settled(MachineState.SAVED_TO_DISK, null);
        LOG.infof("%s: finished the interrupted suspend; %d bytes of state in %s", runner.config().id(), Files.size(complete), complete);
    }

    private void undo(OperationIntent intent, Path partial) throws EngineException {
        deleteQuietly(partial);
        VmmInstance qemu = runner.instanceNow();
        if (intent.wasRunning()) {
            qemu.resume();
        }
        runner.settled(intent.wasRunning() ? MachineState.RUNNING : MachineState.PAUSED, null);
        LOG.infof("%s: undid the interrupted suspend; the guest is %s again", runner.config().id(),
                intent.wasRunning() ? "running" : "paused");
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warnf("cannot delete %s: %s", file, e.getMessage());
        }
    }

    /** Sleeps without letting an interrupt escape as an exception (the VM thread just looks again). */
    static final class QuietSleep {
        private QuietSleep() { }

        static void millis(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
