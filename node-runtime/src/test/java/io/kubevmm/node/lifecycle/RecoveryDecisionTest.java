package io.kubevmm.node.lifecycle;

import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.lifecycle.RecoveryDecision.MigrationAction;
import io.kubevmm.node.lifecycle.RecoveryDecision.Emulator;
import io.kubevmm.node.lifecycle.RecoveryDecision.SaveAction;
import io.kubevmm.node.lifecycle.RecoveryDecision.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class RecoveryDecisionTest {
    // States as QEMU reports them (query-status, query-migrate) in each situation.
    static final Emulator SAVING = new Emulator(true, RunState.PAUSED, MigrationStatus.ACTIVE);
    static final Emulator SAVED = new Emulator(true, RunState.MIGRATED, MigrationStatus.COMPLETED);
    static final Emulator SAVE_FAILED = new Emulator(true, RunState.PAUSED, MigrationStatus.FAILED);
    static final Emulator SENDING = new Emulator(true, RunState.RUNNING, MigrationStatus.ACTIVE);
    static final Emulator SENT = new Emulator(true, RunState.MIGRATED, MigrationStatus.COMPLETED);
    static final Emulator SEND_FAILED = new Emulator(true, RunState.RUNNING, MigrationStatus.FAILED);
    static final Emulator SEND_CANCELLED = new Emulator(true, RunState.RUNNING, MigrationStatus.CANCELLED);
    static final Emulator POSTCOPY = new Emulator(true, RunState.PAUSED, MigrationStatus.POSTCOPY);

    @Test
    void aSaveQemuCompletedIsFinishedEvenBeforeTheFileWasRenamed() {
        assertThat(RecoveryDecision.save(SAVED, false)).isEqualTo(SaveAction.FINISH);
        assertThat(RecoveryDecision.save(SAVED, true)).isEqualTo(SaveAction.FINISH);
    }

    @Test
    void aSaveStillWritingIsAwaitedNotKilled() {
        assertThat(RecoveryDecision.save(SAVING, false)).isEqualTo(SaveAction.WAIT);
        assertThat(RecoveryDecision.save(new Emulator(true, RunState.PAUSED, MigrationStatus.SETUP), false)).isEqualTo(SaveAction.WAIT);
    }

    @Test
    void aFailedOrNeverStartedSaveIsUndone() {
        assertThat(RecoveryDecision.save(SAVE_FAILED, false)).isEqualTo(SaveAction.UNDO);
        assertThat(RecoveryDecision.save(new Emulator(true, RunState.PAUSED, MigrationStatus.NONE), false)).isEqualTo(SaveAction.UNDO);
    }

    @Test
    void withQemuGoneOnlyACompleteFileCounts() {
        assertThat(RecoveryDecision.save(Emulator.GONE, true)).isEqualTo(SaveAction.FINISH);
        assertThat(RecoveryDecision.save(Emulator.GONE, false)).isEqualTo(SaveAction.LOST);
    }

    @Test
    void aCompletedMigrationWhoseTargetRunsTheGuestIsHandedOver() {
        assertThat(RecoveryDecision.migration(SENT, Target.RUNS)).isEqualTo(MigrationAction.HAND_OVER);
        // The source copy may be gone too (e.g. its QEMU was ended): the target's copy is the VM.
        assertThat(RecoveryDecision.migration(Emulator.GONE, Target.RUNS)).isEqualTo(MigrationAction.HAND_OVER);
    }

    @Test
    void aCompletedMigrationTheTargetDoesNotHaveResumesTheOnlyCopyHere() {
        assertThat(RecoveryDecision.migration(SENT, Target.ABSENT)).isEqualTo(MigrationAction.RESUME_HERE);
    }

    @Test
    void anUnreachableTargetDecidesNothingAndNoCopyIsEnded() {
        for (Emulator source : new Emulator[] {SENT, SENDING, POSTCOPY, Emulator.GONE}) {
            assertThat(RecoveryDecision.migration(source, Target.UNKNOWN)).as("source %s", source).isEqualTo(MigrationAction.WAIT);
        }
    }

    @Test
    void preCopyStillStreamingIsCancelledWhenTheTargetWillNotTakeItOver() {
        assertThat(RecoveryDecision.migration(SENDING, Target.RECEIVING)).isEqualTo(MigrationAction.CANCEL);
        assertThat(RecoveryDecision.migration(SENDING, Target.ABSENT)).isEqualTo(MigrationAction.CANCEL);
    }

    @Test
    void aMigrationThatEndedWithoutCompletingLeavesTheGuestHere() {
        assertThat(RecoveryDecision.migration(SEND_FAILED, Target.ABSENT)).isEqualTo(MigrationAction.STAY);
        assertThat(RecoveryDecision.migration(SEND_CANCELLED, Target.RECEIVING)).isEqualTo(MigrationAction.STAY);
        assertThat(RecoveryDecision.migration(SEND_FAILED, Target.UNKNOWN)).isEqualTo(MigrationAction.STAY);
        // Both claiming the guest is a contradiction: nothing is ended on a guess.
        assertThat(RecoveryDecision.migration(SEND_FAILED, Target.RUNS)).isEqualTo(MigrationAction.WAIT);
    }

    @Test
    void postCopyWaitsWhileTheTargetReceivesAndIsLostWhenItIsGone() {
        assertThat(RecoveryDecision.migration(POSTCOPY, Target.RECEIVING)).isEqualTo(MigrationAction.WAIT);
        assertThat(RecoveryDecision.migration(POSTCOPY, Target.ABSENT)).isEqualTo(MigrationAction.LOST);
        assertThat(RecoveryDecision.migration(Emulator.GONE, Target.ABSENT)).isEqualTo(MigrationAction.LOST);
    }

    @Test
    void aCompletedSourceWaitsWhileTheTargetFinishesLoading() {
        assertThat(RecoveryDecision.migration(SENT, Target.RECEIVING)).isEqualTo(MigrationAction.WAIT);
    }

    @Test
    void theIntentSurvivesAsWrittenAndGoesWhenCleared(@TempDir Path dir) throws Exception {
        OperationIntent intent = OperationIntent.migrateOut("m1", "uid-1", "node-b", true);
        intent.write(dir);
        assertThat(OperationIntent.read(dir)).contains(intent);
        assertThat(Files.exists(dir.resolve(OperationIntent.FILE + ".tmp"))).isFalse();
        OperationIntent.clear(dir);
        assertThat(OperationIntent.read(dir)).isEmpty();
        Files.writeString(dir.resolve(OperationIntent.FILE), "{not json");
        assertThat(OperationIntent.read(dir)).isEmpty();
    }
}
