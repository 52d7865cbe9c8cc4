package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmEvent;
import io.kubevmm.node.lifecycle.RecoveryDecision.MigrationAction;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** The states {@link Lifecycle} computes for the outcome of each step, event and failure. */
class LifecycleOutcomeTest {
    private static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void everyStepThatSucceedsLeavesTheStateItWasTakenFor() {
        Lifecycle.Desired running = new Lifecycle.Desired(InstanceState.Running, SuspendMode.Memory, RestartPolicy.Always);
        // Following next() from nothing reaches Running and then stays.
        MachineState m = MachineState.ABSENT;
        for (int i = 0; i < 3; i++) {
            m = Lifecycle.reached(Lifecycle.next(m, running), m);
        }
        assertThat(m).isEqualTo(MachineState.RUNNING);
        assertThat(Lifecycle.next(m, running)).isEqualTo(Action.NONE);

        Lifecycle.Desired toDisk = new Lifecycle.Desired(InstanceState.Suspended, SuspendMode.Disk, RestartPolicy.Always);
        assertThat(Lifecycle.reached(Lifecycle.next(MachineState.RUNNING, toDisk), MachineState.RUNNING)).isEqualTo(MachineState.SAVED_TO_DISK);
        assertThat(Lifecycle.reached(Action.RESTORE_FROM_DISK, MachineState.SAVED_TO_DISK)).as("restored, not yet resumed").isEqualTo(MachineState.PAUSED);
        assertThat(Lifecycle.reached(Action.POWER_DOWN, MachineState.RUNNING)).as("a stop ends the emulator").isEqualTo(MachineState.ABSENT);
        assertThat(Lifecycle.reached(Action.RESTART_GUEST, MachineState.CRASHED)).isEqualTo(MachineState.RUNNING);
        assertThat(Lifecycle.reached(Action.FINISH, MachineState.POWERED_OFF)).isEqualTo(MachineState.FINISHED);
        assertThat(Lifecycle.reached(Action.FAIL, MachineState.CRASHED)).isEqualTo(MachineState.FAILED);
    }

    @Test
    void aStepThatCannotStartAnEmulatorFailsTheVmAndOtherFailuresLeaveItWhereItWas() {
        assertThat(Lifecycle.afterFailure(Action.CREATE, MachineState.ABSENT, true, false)).isEqualTo(MachineState.FAILED);
        assertThat(Lifecycle.afterFailure(Action.RESTORE_FROM_DISK, MachineState.SAVED_TO_DISK, true, false)).isEqualTo(MachineState.FAILED);
        assertThat(Lifecycle.afterFailure(Action.RESTART_GUEST, MachineState.CRASHED, true, false)).isEqualTo(MachineState.FAILED);
        assertThat(Lifecycle.afterFailure(Action.RESTART_GUEST, MachineState.CRASHED, true, true)).as("reset failed; the emulator is there").isEqualTo(MachineState.CRASHED);
        assertThat(Lifecycle.afterFailure(Action.START, MachineState.CREATED, true, true)).isEqualTo(MachineState.CREATED);
        assertThat(Lifecycle.afterFailure(Action.PAUSE, MachineState.RUNNING, true, true)).isEqualTo(MachineState.RUNNING);
        assertThat(Lifecycle.afterFailure(Action.SAVE_TO_DISK, MachineState.RUNNING, true, true)).as("paused for the save").isEqualTo(MachineState.PAUSED);
        assertThat(Lifecycle.afterFailure(Action.SAVE_TO_DISK, MachineState.RUNNING, false, true)).as("the save never began").isEqualTo(MachineState.RUNNING);
    }

    @Test
    void guestEventsMoveTheMachineAndSayWhyWhenSomethingFailed() {
        assertThat(Lifecycle.afterEvent(MachineState.RUNNING, new VmEvent.GuestPoweredOff(), AT))
                .isEqualTo(new Lifecycle.Outcome(MachineState.POWERED_OFF, null));
        Lifecycle.Outcome panic = Lifecycle.afterEvent(MachineState.RUNNING, new VmEvent.GuestCrashed("pvpanic"), AT);
        assertThat(panic.machine()).isEqualTo(MachineState.CRASHED);
        assertThat(panic.failure()).isEqualTo(new VmObservation.Failure("GuestCrashed", "pvpanic", AT));
        Lifecycle.Outcome exit = Lifecycle.afterEvent(MachineState.PAUSED, new VmEvent.ProcessExited(137, "oom"), AT);
        assertThat(exit.machine()).isEqualTo(MachineState.CRASHED);
        assertThat(exit.failure().reason()).isEqualTo("EmulatorExited");
        assertThat(exit.failure().message()).contains("code 137", "oom");
        assertThat(Lifecycle.afterEvent(MachineState.RUNNING, new VmEvent.GuestReset(), AT).machine()).isEqualTo(MachineState.RUNNING);
    }

    @Test
    void aMigrationThatFailsAfterPostCopySwitchoverLosesTheGuestButOneThatFailsBeforeKeepsIt() {
        Lifecycle.Outcome split = Lifecycle.afterFailedMigration(RunState.MIGRATED, AT);
        assertThat(split.machine()).isEqualTo(MachineState.FAILED);
        assertThat(split.failure().reason()).isEqualTo("MigrationFailedAfterSwitchover");
        assertThat(Lifecycle.afterFailedMigration(RunState.RUNNING, AT)).isEqualTo(new Lifecycle.Outcome(MachineState.RUNNING, null));
        assertThat(Lifecycle.afterFailedMigration(RunState.PAUSED, AT)).isEqualTo(new Lifecycle.Outcome(MachineState.PAUSED, null));
        assertThat(Lifecycle.afterFailedMigration(RunState.GONE, AT).machine()).isEqualTo(MachineState.CRASHED);
    }

    @Test
    void theEmulatorsRunStateReadsAsOneMachineStateEverywhere() {
        assertThat(MachineState.of(RunState.CREATED)).isEqualTo(MachineState.CREATED);
        assertThat(MachineState.of(RunState.RUNNING)).isEqualTo(MachineState.RUNNING);
        assertThat(MachineState.of(RunState.PAUSED)).isEqualTo(MachineState.PAUSED);
        assertThat(MachineState.of(RunState.SHUTDOWN)).isEqualTo(MachineState.POWERED_OFF);
        assertThat(MachineState.of(RunState.CRASHED)).isEqualTo(MachineState.CRASHED);
        assertThat(MachineState.of(RunState.GONE)).isEqualTo(MachineState.CRASHED);
        assertThat(MachineState.of(RunState.MIGRATED)).isEqualTo(MachineState.MIGRATED);
    }

    @Test
    void aNewGenerationLetsAnEndedVmRunAgainFromItsSavedStateIfItHasOne() {
        assertThat(Lifecycle.afterNewGeneration(MachineState.FAILED, false)).isEqualTo(MachineState.ABSENT);
        assertThat(Lifecycle.afterNewGeneration(MachineState.FINISHED, true)).isEqualTo(MachineState.SAVED_TO_DISK);
        assertThat(Lifecycle.afterNewGeneration(MachineState.RUNNING, false)).isEqualTo(MachineState.RUNNING);
        assertThat(Lifecycle.afterNewGeneration(MachineState.MIGRATED, false)).isEqualTo(MachineState.MIGRATED);
    }

    @Test
    void aSettledMigrationLeavesTheGuestWhereTheFactsPutIt() {
        assertThat(Lifecycle.afterSettlement(MigrationAction.HAND_OVER, MachineState.PAUSED, false, true)).isEqualTo(MachineState.MIGRATED);
        assertThat(Lifecycle.afterSettlement(MigrationAction.STAY, MachineState.PAUSED, true, true)).isEqualTo(MachineState.RUNNING);
        assertThat(Lifecycle.afterSettlement(MigrationAction.RESUME_HERE, MachineState.MIGRATED, true, false)).isEqualTo(MachineState.PAUSED);
        assertThat(Lifecycle.afterSettlement(MigrationAction.STAY, MachineState.CRASHED, false, true)).isEqualTo(MachineState.CRASHED);
        assertThat(Lifecycle.afterSettlement(MigrationAction.LOST, MachineState.PAUSED, false, true)).isEqualTo(MachineState.CRASHED);
        assertThat(Lifecycle.afterSettlement(MigrationAction.WAIT, MachineState.PAUSED, true, true)).isEqualTo(MachineState.PAUSED);
    }
}
