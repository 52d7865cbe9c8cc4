package io.kubevmm.node.lifecycle;

import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.engine.RunState;

/**
 * What a restarted node runtime does about an operation its predecessor left under way
 * ({@link OperationIntent}), from what it observes now. Pure: the caller observes QEMU (and, for
 * a migration, the target) and carries out the answer. The rule throughout: a QEMU that may hold
 * the only copy of the guest's memory is never ended on a guess; when the facts do not settle
 * where the guest is, the answer is to wait and look again.
 */
public final class RecoveryDecision {
    private RecoveryDecision() { }

    /**
     * The emulator as found after the restart.
     *
     * @param alive           the process runs and answers its monitor
     * @param runState        its vCPU state (meaningless when not alive)
     * @param migrationStatus where its migration stream stands ({@code NONE} when none ran)
     */
    public record Emulator(boolean alive, RunState runState, MigrationStatus migrationStatus) {
        public static final Emulator GONE = new Emulator(false, RunState.GONE, MigrationStatus.NONE);

        boolean completed() {
            return alive && (migrationStatus == MigrationStatus.COMPLETED || runState == RunState.MIGRATED);
        }

        boolean inProgress() {
            return alive && migrationStatus.inProgress();
        }

        boolean inPostCopy() {
            return alive && migrationStatus.inPostCopy();
        }

        boolean endedWithoutCompletion() {
            return alive && runState != RunState.MIGRATED && migrationStatus.endedWithoutCompletion();
        }
    }

    /** What the target node says about the guest. */
    public enum Target {
        /** It took the guest over: its node runtime runs (or holds paused) the guest. */
        RUNS,
        /** Its incoming emulator is still receiving. */
        RECEIVING,
        /** It neither runs nor receives the guest: it never got it, or dropped it. */
        ABSENT,
        /** It could not be asked (down, unreachable): no fact either way. */
        UNKNOWN
    }

    /** What to do about an interrupted save to disk. */
    public enum SaveAction {
        /** The state stream is complete: give the file its real name, end QEMU; the VM is suspended to disk. */
        FINISH,
        /** QEMU is still writing the stream: look again shortly. */
        WAIT,
        /** The save did not complete: drop the partial file and give the guest back its vCPUs as before. */
        UNDO,
        /** QEMU is gone and left no complete state: the guest is lost; report it and drop the partial file. */
        LOST
    }

    /** What to do about an interrupted outgoing migration. */
    public enum MigrationAction {
        /** The target runs the guest: report success, point the VMI at the target, end this copy. */
        HAND_OVER,
        /** Pre-copy still streams but the target will not take it over any more: cancel; the guest stays here. */
        CANCEL,
        /** The migration ended without completing: the guest is here (vCPUs restored if they ran). */
        STAY,
        /** QEMU completed but the target does not have the guest: this paused copy is the only one; continue it here. */
        RESUME_HERE,
        /** Neither node holds a usable copy (post-copy split, or QEMU gone): report the loss. */
        LOST,
        /** The facts do not settle it yet (target unreachable, still receiving, post-copy running): look again. */
        WAIT
    }

    /**
     * @param stateFileComplete the final state file exists (the old runtime renamed it before it died)
     */
    public static SaveAction save(Emulator qemu, boolean stateFileComplete) {
        if (!qemu.alive()) {
            return stateFileComplete ? SaveAction.FINISH : SaveAction.LOST;
        }
        if (qemu.completed() || stateFileComplete) {
            return SaveAction.FINISH;
        }
        if (qemu.inProgress()) {
            return SaveAction.WAIT;
        }
        return SaveAction.UNDO;
    }

    public static MigrationAction migration(Emulator source, Target target) {
        if (source.endedWithoutCompletion()) {
            // Pre-copy failed or was cancelled (a post-copy failure stays POSTCOPY): the target cannot have completed.
            return target == Target.RUNS ? MigrationAction.WAIT : MigrationAction.STAY;
        }
        return switch (target) {
            case RUNS -> source.alive() && !source.completed() ? MigrationAction.WAIT : MigrationAction.HAND_OVER;
            case RECEIVING -> source.inProgress() ? MigrationAction.CANCEL : MigrationAction.WAIT;
            case ABSENT -> {
                if (!source.alive() || source.inPostCopy()) {
                    yield MigrationAction.LOST;
                }
                if (source.completed()) {
                    yield MigrationAction.RESUME_HERE;
                }
                yield source.inProgress() ? MigrationAction.CANCEL : MigrationAction.STAY;
            }
            case UNKNOWN -> MigrationAction.WAIT;
        };
    }
}
