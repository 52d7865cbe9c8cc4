package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmEvent;
import io.kubevmm.node.lifecycle.VmObservation.Failure;

import java.time.Instant;

/**
 * The survey's lifecycle (defined → create → stopped → start → running ⇄ suspended → destroy)
 * as pure functions: the next step towards the desired state, the machine state each step, guest
 * event or failure leaves, and the phase users see. The runner carries out the steps and keeps
 * whatever state these functions compute; it never decides a state itself.
 */
public final class Lifecycle {

    private Lifecycle() { }

    /** What the VMI asks this node for. */
    public record Desired(InstanceState state, SuspendMode suspendMode, RestartPolicy restartPolicy) {
        public Desired {
            suspendMode = SpecDefaults.suspendMode(suspendMode);
            restartPolicy = SpecDefaults.restartPolicy(restartPolicy);
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

    /** A machine state with the failure that led to it ({@code null} when nothing failed). */
    public record Outcome(MachineState machine, Failure failure) { }

    /** The machine state a successful {@code action} leaves. */
    public static MachineState reached(Action action, MachineState before) {
        return switch (action) {
            case NONE -> before;
            case CREATE -> MachineState.CREATED;
            case START, RESUME, RESTART_GUEST -> MachineState.RUNNING;
            case PAUSE, RESTORE_FROM_DISK -> MachineState.PAUSED;
            case SAVE_TO_DISK -> MachineState.SAVED_TO_DISK;
            case POWER_DOWN, RECREATE, DISCARD_SAVED_STATE -> MachineState.ABSENT;
            case FINISH -> MachineState.FINISHED;
            case FAIL -> MachineState.FAILED;
            case MIGRATE_OUT -> MachineState.MIGRATED;
        };
    }

    /**
     * The machine state a failed {@code action} leaves. {@link MachineState#FAILED} when nothing
     * runs and retrying the same spec would fail the same way (a new generation retries); otherwise
     * the machine stays where it was and the step is retried with backoff.
     *
     * @param begun        the step got as far as touching the emulator or the engine (a step that
     *                     could not begin, e.g. its crash-recovery record could not be written, changed nothing)
     * @param emulatorLeft an emulator process is still attached after the failure
     */
    public static MachineState afterFailure(Action action, MachineState before, boolean begun, boolean emulatorLeft) {
        if (!begun) {
            return before;
        }
        return switch (action) {
            case CREATE, RESTORE_FROM_DISK -> MachineState.FAILED;
            case RESTART_GUEST -> emulatorLeft ? before : MachineState.FAILED;
            case SAVE_TO_DISK -> MachineState.PAUSED; // a save that fails leaves the guest paused in its emulator
            default -> before;
        };
    }

    /** What something the guest or its emulator did on its own makes of the machine. */
    public static Outcome afterEvent(MachineState before, VmEvent event, Instant at) {
        return switch (event) {
            case VmEvent.GuestPoweredOff off -> new Outcome(MachineState.POWERED_OFF, null);
            case VmEvent.GuestCrashed crash -> new Outcome(MachineState.CRASHED, new Failure("GuestCrashed", crash.detail(), at));
            case VmEvent.GuestAgentChannel channel -> new Outcome(before, null);
            case VmEvent.GuestReset reset -> new Outcome(before, null); // rebooted in place: a new boot, same machine
            case VmEvent.ProcessExited exit -> new Outcome(MachineState.CRASHED, new Failure("EmulatorExited",
                    "QEMU exited unexpectedly" + (exit.exitCode() >= 0 ? " with code " + exit.exitCode() : "")
                            + (exit.logTail().isEmpty() ? "" : ": " + exit.logTail()), at));
        };
    }

    /**
     * Where the guest is after an outgoing migration that did not complete: the emulator resumes
     * it itself unless post-copy had switched over, which splits the guest's memory between two
     * nodes so that neither copy can go on.
     */
    public static Outcome afterFailedMigration(RunState emulator, Instant at) {
        MachineState seen = MachineState.of(emulator);
        if (seen == MachineState.MIGRATED) {
            return new Outcome(MachineState.FAILED, new Failure("MigrationFailedAfterSwitchover",
                    "the migration failed after post-copy switchover; the guest's state is lost", at));
        }
        return new Outcome(seen, null);
    }

    /**
     * A new spec generation lets a VM that ended (failed, or finished under its restart policy)
     * run again, from its state saved to disk when it has one. Other machines go on as they are.
     */
    public static MachineState afterNewGeneration(MachineState before, boolean savedStateExists) {
        if (before != MachineState.FAILED && before != MachineState.FINISHED) {
            return before;
        }
        return savedStateExists ? MachineState.SAVED_TO_DISK : MachineState.ABSENT;
    }

    /**
     * The machine state a settled outgoing migration (one an earlier node runtime left under way)
     * leaves here. {@code WAIT} and {@code CANCEL} settle nothing yet.
     *
     * @param emulatorLeft the source emulator is still attached
     * @param wasRunning   the guest's vCPUs ran before the migration (a guest that stays gets them back)
     */
    public static MachineState afterSettlement(RecoveryDecision.MigrationAction action, MachineState before,
                                               boolean emulatorLeft, boolean wasRunning) {
        return switch (action) {
            case WAIT, CANCEL -> before;
            case HAND_OVER -> MachineState.MIGRATED;
            case LOST -> MachineState.CRASHED;
            case STAY, RESUME_HERE -> !emulatorLeft ? MachineState.CRASHED : wasRunning ? MachineState.RUNNING : MachineState.PAUSED;
        };
    }

    /** Whether {@code action} boots the guest (its console is then watched for readiness). */
    static boolean boots(Action action) {
        return action == Action.START || action == Action.RESTART_GUEST;
    }
}
