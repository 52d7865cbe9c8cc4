package io.kubevmm.operator.migration;

import io.fabric8.kubernetes.api.model.Condition;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator's phase machine replayed over sequences of facts shaped as the node runtimes
 * write them ({@link FactTrace}): every phase comes from a fact, the VMI is handed over before
 * Succeeded is stored, no condition erases another, and a reconcile without a new fact writes nothing.
 */
class MigrationPhasesTest {

    @Test
    void preCopyGoesThroughEveryPhaseAndHandsOverBeforeSucceeded() {
        FactTrace t = FactTrace.load("precopy").replay();

        assertThat(t.actions()).containsExactly("Scheduling", "label", "TargetReady", "Running", "handOver", "Succeeded");
        assertThat(t.log).filteredOn(d -> d.what().equals("handOver")).extracting(FactTrace.Did::message).containsExactly("node-b");
        var s = t.status;
        assertThat(s.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(s.getSourceNode()).isEqualTo("node-a");
        assertThat(s.getTargetNode()).isEqualTo("node-b");
        assertThat(s.getMode()).isEqualTo("PreCopy");
        assertThat(s.getDowntimeMillis()).isEqualTo(41);
        assertThat(s.getTotalTimeMillis()).isEqualTo(3360);
        assertThat(s.getTransferredBytes()).isEqualTo(206045184);
        assertThat(s.getIterations()).isEqualTo(3);
        assertThat(s.getRemainingBytes()).isZero();
        assertThat(s.getStartTime()).isEqualTo("2026-12-03T10:00:00.900Z");
        assertThat(s.getCompletionTime()).isEqualTo("2026-12-03T10:00:04.300Z");
        assertThat(s.getCompletionTimeoutSeconds()).isEqualTo(60);
        assertThat(s.getFailureReason()).isNull();
        assertThat(s.getConditions()).extracting(Condition::getType)
                .containsExactlyInAnyOrder("Scheduled", "TargetReady", "TargetRunning", "Completed");
        assertThat(s.getConditions()).allMatch(c -> c.getStatus().equals("True"));
        assertThat(t.log).filteredOn(d -> d.phase() == Phase.Succeeded).extracting(FactTrace.Did::message)
                .singleElement().asString().contains("downtime 41 ms").contains("total 3360 ms").contains("196 MiB in 3 passes");
    }

    @Test
    void aPauseLongerThanTheSpecAllowedIsSaidInTheOutcomeNotHidden() {
        FactTrace t = FactTrace.load("precopy");
        t.spec.setMaxDowntimeMillis(30L); // the trace's switchover took 41 ms
        t.replay();

        assertThat(t.status.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(t.status.getDowntimeMillis()).isEqualTo(41);
        assertThat(t.status.getConditions()).filteredOn(c -> c.getType().equals("Completed")).singleElement().satisfies(c -> {
            assertThat(c.getStatus()).isEqualTo("True");
            assertThat(c.getReason()).isEqualTo("SucceededAboveMaxDowntime");
            assertThat(c.getMessage()).contains("downtime 41 ms", "longer than the 30 ms spec.maxDowntimeMillis allows");
        });
        assertThat(t.log).filteredOn(d -> d.phase() == Phase.Succeeded).extracting(FactTrace.Did::reason)
                .containsExactly("SucceededAboveMaxDowntime");
        assertThat(FactTrace.load("precopy").replay().status.getConditions()).as("within the default 300 ms")
                .filteredOn(c -> c.getType().equals("Completed")).extracting(c -> c.getReason()).containsExactly("Succeeded");
    }

    @Test
    void progressFiguresFollowTheSourceAndAReconcileWithoutANewFactWritesNothing() {
        FactTrace t = FactTrace.load("precopy").replayUntil(3.9);

        assertThat(t.status.getPhase()).isEqualTo(Phase.Running);
        assertThat(t.status.getIterations()).isEqualTo(2);
        assertThat(t.status.getTransferredBytes()).isEqualTo(204472320);
        assertThat(t.status.getRemainingBytes()).isEqualTo(1413120);
        assertThat(t.status.getDirtyRateBytesPerSecond()).isEqualTo(81920);
        assertThat(t.log).filteredOn(d -> d.what().equals("figures")).hasSize(3);
        int before = t.log.size();
        assertThat(t.reconcile(FactTrace.at(60))).isEqualTo(new MigrationPhases.Step.Wait(0));
        assertThat(t.log).hasSize(before);
    }

    @Test
    void postCopySwitchIsAPhaseAndTheOutcomeKeepsTheMode() {
        FactTrace t = FactTrace.load("postcopy").replay();

        assertThat(t.phases()).containsExactly(Phase.Scheduling, Phase.TargetReady, Phase.Running, Phase.PostCopy, Phase.Succeeded);
        assertThat(t.status.getMode()).isEqualTo("PostCopy");
        assertThat(t.status.getDowntimeMillis()).isEqualTo(12);
        assertThat(Conditions.isTrue(t.status.getConditions(), "TargetRunning")).isTrue();
    }

    @Test
    void anAbortAtTheCompletionTimeoutFailsWithTheSourcesReasonAndNoHandOver() {
        FactTrace t = FactTrace.load("aborted").replay();

        assertThat(t.actions()).containsExactly("Scheduling", "label", "TargetReady", "Running", "Failed");
        assertThat(t.status.getFailureReason()).startsWith("Aborted: ").contains("completion timeout");
        assertThat(t.status.getCompletionTime()).isEqualTo(FactTrace.at(8.8).toString());
        Condition completed = Conditions.find(t.status.getConditions(), "Completed").orElseThrow();
        assertThat(completed.getStatus()).isEqualTo("False");
        assertThat(completed.getReason()).isEqualTo("Aborted");
        assertThat(t.status.getConditions()).extracting(Condition::getType).contains("Scheduled", "TargetReady");
    }

    @Test
    void cancelWhileSendingWaitsForTheSourceToStopThenSaysCancelled() {
        FactTrace t = FactTrace.load("cancelled-running").replayUntil(2.0);
        assertThat(t.status.getPhase()).as("the source is sending: only it can stop QEMU").isEqualTo(Phase.Running);

        t.replay();
        assertThat(t.phases()).endsWith(Phase.Running, Phase.Cancelled);
        assertThat(t.status.getFailureReason()).isNull();
        assertThat(t.actions()).doesNotContain("handOver");
    }

    @Test
    void cancelBeforeTheTransferStartedEndsItAtOnce() {
        FactTrace t = FactTrace.load("precopy").replayUntil(0.6);
        assertThat(t.status.getPhase()).isEqualTo(Phase.TargetReady);
        t.spec.setCancel(true);
        t.reconcile(FactTrace.at(0.7));

        assertThat(t.status.getPhase()).isEqualTo(Phase.Cancelled);
        assertThat(t.log.getLast().message()).contains("stays on node-a");
    }

    @Test
    void cancelBeforeAdmissionEndsItWithoutScheduling() {
        FactTrace t = FactTrace.load("precopy");
        t.spec.setCancel(true);
        t.reconcile(FactTrace.at(0));

        assertThat(t.actions()).containsExactly("Cancelled");
        assertThat(t.labelled).isFalse();
    }

    @Test
    void aTargetThatCannotPrepareFailsTheMigrationWithItsReason() {
        FactTrace t = FactTrace.load("target-failed").replay();

        assertThat(t.phases()).containsExactly(Phase.Scheduling, Phase.Failed);
        assertThat(t.status.getFailureReason()).startsWith("TargetFailed: node node-b could not prepare the target")
                .contains("no such file");
    }

    @Test
    void aTargetOrSourceThatDoesNotActInTimeFailsTheMigrationAndTheVmStays() {
        FactTrace scheduling = FactTrace.load("precopy").replayUntil(0.0);
        scheduling.reconcile(FactTrace.at(89));
        assertThat(scheduling.status.getPhase()).isEqualTo(Phase.Scheduling);
        scheduling.reconcile(FactTrace.at(91));
        assertThat(scheduling.status.getPhase()).isEqualTo(Phase.Failed);
        assertThat(scheduling.status.getFailureReason()).startsWith("TargetNotReady: node node-b did not prepare the target within 90s")
                .endsWith("the VM stays on node-a");

        FactTrace ready = FactTrace.load("precopy").replayUntil(0.6);
        ready.reconcile(FactTrace.at(90.5));
        assertThat(ready.status.getPhase()).as("90 s counted from TargetReady, not from Scheduling").isEqualTo(Phase.TargetReady);
        ready.reconcile(FactTrace.at(91));
        assertThat(ready.status.getFailureReason()).startsWith("SourceNotStarted: node node-a did not start sending");
    }

    @Test
    void aTargetThatDownloadsTheImageIsWaitedForWhileItReportsProgress() {
        FactTrace t = FactTrace.load("target-downloads").replay();

        assertThat(t.phases()).containsExactly(Phase.Scheduling, Phase.TargetReady, Phase.Running, Phase.Succeeded);
    }

    @Test
    void aDownloadThatStopsReportingFailsTheMigrationOneTimeoutAfterItsLastReport() {
        FactTrace t = FactTrace.load("target-downloads").replayUntil(60.0);
        t.reconcile(FactTrace.at(149));
        assertThat(t.status.getPhase()).isEqualTo(Phase.Scheduling);
        t.reconcile(FactTrace.at(151));
        assertThat(t.status.getPhase()).isEqualTo(Phase.Failed);
        assertThat(t.status.getFailureReason()).startsWith("TargetNotReady: node node-b did not prepare the target");
    }

    @Test
    void labelsMissingInSchedulingArePutOnAgainAndATargetReadyFactIsNeverLost() {
        // The operator stopped between storing Scheduling and labelling (commit 912d1fb's ordering).
        FactTrace t = FactTrace.load("precopy").replayUntil(0.0);
        t.labelled = false;
        t.log.clear();
        t.reconcile(FactTrace.at(0.2));
        assertThat(t.actions()).containsExactly("label");

        // A target quick enough to report before the operator looks again is not overwritten by anything.
        t.replayUntil(0.6);
        assertThat(t.status.getPhase()).isEqualTo(Phase.TargetReady);
        assertThat(Conditions.isTrue(t.status.getConditions(), "TargetReady")).isTrue();
        assertThat(Conditions.isTrue(t.status.getConditions(), "Scheduled")).isTrue();
    }

    @Test
    void aCompletionAfterARestartSucceedsWithTheSourcesWordsAndTheTargetRunningCondition() {
        FactTrace t = FactTrace.load("completed-after-restart").replayUntil(9.0);
        assertThat(t.status.getPhase()).isEqualTo(Phase.Running);
        assertThat(Conditions.isTrue(t.status.getConditions(), "TargetRunning"))
                .as("what a restarted source reads to find the guest").isTrue();

        t.replay();
        assertThat(t.actions()).endsWith("handOver", "Succeeded");
        assertThat(t.status.getDowntimeMillis()).isNull();
        assertThat(t.log.getLast().message()).contains("figures were lost");
    }

    @Test
    void aCompletedTransferWinsOverAnOutcomeStoredMeanwhile() {
        // The operator gave up on the source while QEMU was in fact completing: the guest runs on
        // the target, so the VMI must follow it there.
        FactTrace t = FactTrace.load("precopy").replayUntil(3.9);
        t.status.setPhase(Phase.Failed);
        t.replay();

        assertThat(t.actions()).endsWith("handOver", "Succeeded");
        assertThat(t.status.getPhase()).isEqualTo(Phase.Succeeded);
    }

    @Test
    void succeededWaitsForTheTargetToReportTheInstanceAndNotForever() {
        FactTrace t = FactTrace.load("precopy");
        t.targetReports = false;
        t.replay();
        assertThat(t.actions()).endsWith("Running", "handOver");
        assertThat(t.status.getPhase()).as("the VMI's status still comes from the source").isEqualTo(Phase.Running);
        assertThat(t.reconcile(FactTrace.at(5))).isEqualTo(new MigrationPhases.Step.Wait(MigrationPhases.HAND_OVER_RECHECK_MILLIS));

        t.instance = new MigrationPhases.Instance("node-b", "node-b");
        t.reconcile(FactTrace.at(5.5));
        assertThat(t.status.getPhase()).isEqualTo(Phase.Succeeded);

        FactTrace silent = FactTrace.load("precopy");
        silent.targetReports = false;
        silent.replay();
        silent.reconcile(FactTrace.at(4.3 + 91));
        assertThat(silent.status.getPhase()).as("a target that never reports does not hold the outcome back").isEqualTo(Phase.Succeeded);
        assertThat(silent.actions()).containsOnlyOnce("handOver");
    }

    @Test
    void theOutcomeIsFinal() {
        FactTrace t = FactTrace.load("aborted").replay();
        int before = t.log.size();
        t.spec.setCancel(true);
        assertThat(t.reconcile(FactTrace.at(100))).isEqualTo(new MigrationPhases.Step.Wait(0));
        assertThat(t.log).hasSize(before);
        assertThat(List.of(t.status.getPhase())).containsExactly(Phase.Failed);
    }
}
