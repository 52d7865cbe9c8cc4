package io.kubevmm.operator.snapshot;

import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VMRestoreSpec;
import io.kubevmm.api.v1alpha1.VMRestoreStatus;
import io.kubevmm.api.v1alpha1.VMRestoreStatus.Phase;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The VMRestore phase machine over the facts of the instance started for it, in the order a node
 * reports them (none yet, Starting, then Running; or Failed with its reason), and the timeout.
 */
class RestorePhasesTest {
    private static final Instant REQUESTED = Instant.parse("2026-12-03T10:00:00Z");
    private static final Duration TIMEOUT = Duration.ofMinutes(10);

    private final VMRestoreSpec spec = spec();

    private static VMRestoreSpec spec() {
        VMRestoreSpec spec = new VMRestoreSpec();
        spec.setSnapshotName("web-1");
        spec.setTargetVmName("web");
        return spec;
    }

    private static RestorePhases.Facts at(double seconds, InstancePhase instance, String failure) {
        return new RestorePhases.Facts(REQUESTED.plusMillis(Math.round(seconds * 1000)), TIMEOUT, REQUESTED, instance, failure, 1);
    }

    private static VMRestoreStatus apply(VMRestoreStatus status, RestorePhases.Step step) {
        var w = (RestorePhases.Step.Write) step;
        VMRestoreStatus s = w.status();
        if (status != null && s.getTargetNode() == null) {
            s.setTargetNode(status.getTargetNode());
        }
        return s;
    }

    private VMRestoreStatus inProgress() {
        assertThat(RestorePhases.next(spec, null, at(0, null, null))).isEqualTo(new RestorePhases.Step.Start());
        return apply(null, RestorePhases.started(null, at(0.1, null, null), "node-b", "rolling VM web back to VMSnapshot web-1 on node-b"));
    }

    @Test
    void theRestoreSucceedsOnceItsInstanceRunsAndReleasesTheVm() {
        VMRestoreStatus status = inProgress();
        assertThat(status.getPhase()).isEqualTo(Phase.InProgress);
        assertThat(RestorePhases.next(spec, status, at(0.5, null, null))).isEqualTo(new RestorePhases.Step.Wait(RestorePhases.RECHECK_MILLIS));
        assertThat(RestorePhases.next(spec, status, at(1.0, InstancePhase.Starting, null)))
                .isEqualTo(new RestorePhases.Step.Wait(RestorePhases.RECHECK_MILLIS));

        var step = (RestorePhases.Step.Write) RestorePhases.next(spec, status, at(2.4, InstancePhase.Running, null));
        assertThat(step.release()).as("the VM's restore annotations go").isTrue();
        VMRestoreStatus done = apply(status, step);
        assertThat(done.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(done.getDurationMillis()).isEqualTo(2400);
        assertThat(done.getTargetNode()).isEqualTo("node-b");
        assertThat(Conditions.isTrue(done.getConditions(), "Complete")).isTrue();
        assertThat(step.transition().message()).contains("2400 ms after the request");
        assertThat(RestorePhases.next(spec, done, at(5, InstancePhase.Running, null))).isEqualTo(new RestorePhases.Step.Wait(0));
    }

    @Test
    void anInstanceThatFailsFailsTheRestoreWithTheNodesReason() {
        VMRestoreStatus status = inProgress();
        var step = (RestorePhases.Step.Write) RestorePhases.next(spec, status, at(1.5, InstancePhase.Failed,
                "artifact state: SHA-256 mismatch"));

        VMRestoreStatus failed = apply(status, step);
        assertThat(failed.getPhase()).isEqualTo(Phase.Failed);
        assertThat(failed.getError()).isEqualTo("RestoreFailed: artifact state: SHA-256 mismatch");
        assertThat(step.release()).isTrue();
        assertThat(step.transition().warning()).isTrue();
    }

    @Test
    void aGuestThatDoesNotRunInTimeFailsTheRestore() {
        VMRestoreStatus status = inProgress();
        assertThat(RestorePhases.next(spec, status, at(599, InstancePhase.Starting, null))).isInstanceOf(RestorePhases.Step.Wait.class);
        VMRestoreStatus failed = apply(status, RestorePhases.next(spec, status, at(601, InstancePhase.Starting, null)));

        assertThat(failed.getError()).isEqualTo("Timeout: VM web did not run from the snapshot within 10 min");
    }
}
