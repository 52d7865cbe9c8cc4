package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;

/**
 * The survey's lifecycle (defined → create → stopped → start → running ⇄ suspended → destroy)
 * as two pure functions: the next step towards the desired state, and the phase users see.
 */
public final class Lifecycle {

    private Lifecycle() { }

    /** What the VMI asks this node for. */
    public record Desired(InstanceState state, SuspendMode suspendMode, RestartPolicy restartPolicy) {
        public Desired {
            suspendMode = suspendMode == null ? SuspendMode.Memory : suspendMode;
            restartPolicy = restartPolicy == null ? RestartPolicy.Always : restartPolicy;
        }

        boolean toDisk() { return suspendMode == SuspendMode.Disk; }
    }

    public static Action next(MachineState actual, Desired desired) {
        InstanceState want = desired.state();
        return switch (actual) {
            case FINISHED, FAILED, MIGRATED, UNREACHABLE -> Action.NONE;
            case ABSENT -> Action.CREATE;
            case CREATED -> want == InstanceState.Stopped ? Action.NONE : Action.START;
            case RUNNING -> switch (want) {
                case Running -> Action.NONE;
                case Suspended -> desired.toDisk() ? Action.SAVE_TO_DISK : Action.PAUSE;
                case Stopped -> Action.POWER_DOWN;
            };
            case PAUSED -> switch (want) {
                case Running -> Action.RESUME;
                case Suspended -> desired.toDisk() ? Action.SAVE_TO_DISK : Action.NONE;
                case Stopped -> Action.RECREATE;
            };
            case SAVED_TO_DISK -> switch (want) {
                case Suspended -> desired.toDisk() ? Action.NONE : Action.RESTORE_FROM_DISK;
                case Running -> Action.RESTORE_FROM_DISK;
                case Stopped -> Action.DISCARD_SAVED_STATE;
            };
            case POWERED_OFF -> want == InstanceState.Stopped ? Action.RECREATE
                    : desired.restartPolicy() == RestartPolicy.Always ? Action.RESTART_GUEST : Action.FINISH;
            case CRASHED -> want == InstanceState.Stopped ? Action.RECREATE
                    : desired.restartPolicy() == RestartPolicy.Never ? Action.FAIL : Action.RESTART_GUEST;
        };
    }

    /** The phase shown while {@code inFlight} runs, or for a settled machine when it is {@link Action#NONE}. */
    public static InstancePhase phase(MachineState actual, Action inFlight) {
        return switch (inFlight) {
            case CREATE -> InstancePhase.Creating;
            case START, RESTART_GUEST -> InstancePhase.Starting;
            case PAUSE, SAVE_TO_DISK -> InstancePhase.Suspending;
            case RESUME, RESTORE_FROM_DISK -> InstancePhase.Resuming;
            case POWER_DOWN, RECREATE, DISCARD_SAVED_STATE, FINISH, FAIL -> InstancePhase.Stopping;
            case MIGRATE_OUT -> InstancePhase.Migrating;
            case NONE -> switch (actual) {
                case ABSENT -> InstancePhase.Pending;
                case CREATED -> InstancePhase.Stopped;
                // Unknown until its monitor answers; the status writer keeps the last phase it reported.
                case RUNNING, UNREACHABLE -> InstancePhase.Running;
                case PAUSED, SAVED_TO_DISK -> InstancePhase.Suspended;
                case POWERED_OFF, CRASHED -> InstancePhase.Stopping;
                case FINISHED -> InstancePhase.Succeeded;
                case FAILED -> InstancePhase.Failed;
                case MIGRATED -> InstancePhase.Migrating;
            };
        };
    }
}
