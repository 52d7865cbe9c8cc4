package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import org.junit.jupiter.api.Test;

import static io.kubevmm.node.lifecycle.Lifecycle.next;
import static org.assertj.core.api.Assertions.assertThat;

class LifecycleTest {
    private static Lifecycle.Desired want(InstanceState state) {
        return new Lifecycle.Desired(state, SuspendMode.Memory, RestartPolicy.Always);
    }

    private static Lifecycle.Desired suspendToDisk() {
        return new Lifecycle.Desired(InstanceState.Suspended, SuspendMode.Disk, RestartPolicy.Always);
    }

    @Test
    void aStoppedMachineIsCreatedAndLeftHalted() {
        assertThat(next(MachineState.ABSENT, want(InstanceState.Stopped))).isEqualTo(Action.CREATE);
        assertThat(next(MachineState.CREATED, want(InstanceState.Stopped))).isEqualTo(Action.NONE);
        assertThat(Lifecycle.phase(MachineState.CREATED, Action.NONE)).isEqualTo(InstancePhase.Stopped);
    }

    @Test
    void aGuestWhoseEmulatorDoesNotAnswerIsNeitherStartedAgainNorStopped() {
        for (InstanceState state : InstanceState.values()) {
            assertThat(next(MachineState.UNREACHABLE, want(state))).as("wanted " + state).isEqualTo(Action.NONE);
        }
    }

    @Test
    void runningIsReachedByCreateThenStart() {
        assertThat(next(MachineState.ABSENT, want(InstanceState.Running))).isEqualTo(Action.CREATE);
        assertThat(next(MachineState.CREATED, want(InstanceState.Running))).isEqualTo(Action.START);
        assertThat(next(MachineState.RUNNING, want(InstanceState.Running))).isEqualTo(Action.NONE);
    }

    @Test
    void suspendToMemoryPausesInPlaceAndResumeContinues() {
        assertThat(next(MachineState.RUNNING, want(InstanceState.Suspended))).isEqualTo(Action.PAUSE);
        assertThat(next(MachineState.PAUSED, want(InstanceState.Suspended))).isEqualTo(Action.NONE);
        assertThat(next(MachineState.PAUSED, want(InstanceState.Running))).isEqualTo(Action.RESUME);
    }

    @Test
    void suspendToDiskSavesStateAndResumeRestoresItBeforeContinuing() {
        assertThat(next(MachineState.RUNNING, suspendToDisk())).isEqualTo(Action.SAVE_TO_DISK);
        assertThat(next(MachineState.PAUSED, suspendToDisk())).isEqualTo(Action.SAVE_TO_DISK);
        assertThat(next(MachineState.SAVED_TO_DISK, suspendToDisk())).isEqualTo(Action.NONE);
        assertThat(next(MachineState.SAVED_TO_DISK, want(InstanceState.Running))).isEqualTo(Action.RESTORE_FROM_DISK);
        assertThat(Lifecycle.phase(MachineState.SAVED_TO_DISK, Action.NONE)).isEqualTo(InstancePhase.Suspended);
    }

    @Test
    void stoppingARunningGuestPowersItDownGracefully() {
        assertThat(next(MachineState.RUNNING, want(InstanceState.Stopped))).isEqualTo(Action.POWER_DOWN);
        assertThat(next(MachineState.SAVED_TO_DISK, want(InstanceState.Stopped))).isEqualTo(Action.DISCARD_SAVED_STATE);
        assertThat(Lifecycle.phase(MachineState.RUNNING, Action.POWER_DOWN)).isEqualTo(InstancePhase.Stopping);
    }

    @Test
    void guestPowerOffFollowsTheRestartPolicy() {
        assertThat(next(MachineState.POWERED_OFF, want(InstanceState.Running))).isEqualTo(Action.RESTART_GUEST);
        assertThat(next(MachineState.POWERED_OFF, new Lifecycle.Desired(InstanceState.Running, null, RestartPolicy.OnFailure)))
                .isEqualTo(Action.FINISH);
        assertThat(next(MachineState.POWERED_OFF, new Lifecycle.Desired(InstanceState.Running, null, RestartPolicy.Never)))
                .isEqualTo(Action.FINISH);
        assertThat(Lifecycle.phase(MachineState.FINISHED, Action.NONE)).isEqualTo(InstancePhase.Succeeded);
    }

    @Test
    void crashesAreRestartedUnlessThePolicyIsNever() {
        assertThat(next(MachineState.CRASHED, new Lifecycle.Desired(InstanceState.Running, null, RestartPolicy.OnFailure)))
                .isEqualTo(Action.RESTART_GUEST);
        assertThat(next(MachineState.CRASHED, new Lifecycle.Desired(InstanceState.Running, null, RestartPolicy.Never)))
                .isEqualTo(Action.FAIL);
        assertThat(Lifecycle.phase(MachineState.FAILED, Action.NONE)).isEqualTo(InstancePhase.Failed);
    }

    @Test
    void terminalStatesWaitForANewSpec() {
        for (InstanceState state : InstanceState.values()) {
            assertThat(next(MachineState.FAILED, want(state))).isEqualTo(Action.NONE);
            assertThat(next(MachineState.FINISHED, want(state))).isEqualTo(Action.NONE);
        }
    }
}
