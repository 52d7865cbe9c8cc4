package io.kubevmm.operator.snapshot;

import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VMRestoreSpec;
import io.kubevmm.api.v1alpha1.VMRestoreStatus;
import io.kubevmm.api.v1alpha1.VMRestoreStatus.Phase;

import java.time.Duration;
import java.time.Instant;

/**
 * The phase machine of a VMRestore, pure. The operator is its only writer; its facts are those of
 * the VM instance started for this restore (the node writes them into the VMI's status): Running
 * or Suspended means the guest runs from the snapshot, Failed carries the node's reason.
 */
public final class RestorePhases {
    static final long RECHECK_MILLIS = 500;

    private RestorePhases() { }

    /**
     * What the operator sees: the clock, the restore's timeout, when it was requested, and the
     * phase (and failure message) of the instance started for this restore, null while there is none.
     */
    public record Facts(Instant now, Duration timeout, Instant requested, InstancePhase instance, String instanceFailure,
                        long generation) { }

    /** A phase change: its Event and metric. */
    public record Transition(Phase to, String reason, String message, boolean warning) { }

    public sealed interface Step {
        /** Pending: check the snapshot and target, then roll back or clone (needs the API). */
        record Start() implements Step { }

        /** Nothing to write; look again after {@code recheckMillis} (0: only when something changes). */
        record Wait(long recheckMillis) implements Step { }

        /** Write the status; {@code release} asks to clear the VM's restore annotations first (the restore is over). */
        record Write(VMRestoreStatus status, Transition transition, boolean release, long recheckMillis) implements Step { }
    }

    public static Step next(VMRestoreSpec spec, VMRestoreStatus status, Facts facts) {
        Phase phase = status == null || status.getPhase() == null ? Phase.Pending : status.getPhase();
        return switch (phase) {
            case Succeeded, Failed -> new Step.Wait(0);
            case Pending -> new Step.Start();
            case InProgress -> inProgress(spec, status, facts);
        };
    }

    private static Step inProgress(VMRestoreSpec spec, VMRestoreStatus status, Facts facts) {
        String target = spec.getTargetVmName();
        if (facts.instance() == InstancePhase.Running || facts.instance() == InstancePhase.Suspended) {
            long millis = Duration.between(facts.requested(), facts.now()).toMillis();
            VMRestoreStatus s = new VMRestoreStatus();
            s.setPhase(Phase.Succeeded);
            s.setDurationMillis(millis);
            s.setCompletionTime(facts.now().toString());
            s.setConditions(conditions(status, facts).set(ConditionTypes.COMPLETE, true, "Succeeded", "VM " + target + " runs from VMSnapshot "
                    + spec.getSnapshotName()).buildKeepingOthers());
            return new Step.Write(s, new Transition(Phase.Succeeded, "Succeeded", "VM " + target + " runs again from VMSnapshot "
                    + spec.getSnapshotName() + " (" + millis + " ms after the request)", false), true, 0);
        }
        if (facts.instance() == InstancePhase.Failed) {
            return failed(status, facts, "RestoreFailed", facts.instanceFailure() == null ? "the instance failed" : facts.instanceFailure(), true);
        }
        if (Duration.between(facts.requested(), facts.now()).compareTo(facts.timeout()) > 0) {
            return failed(status, facts, "Timeout", "VM " + target + " did not run from the snapshot within "
                    + facts.timeout().toMinutes() + " min", true);
        }
        return new Step.Wait(RECHECK_MILLIS);
    }

    /** Started: the VM was annotated (rollback) or created (clone); {@code what} says which, for the Event. */
    public static Step started(VMRestoreStatus status, Facts facts, String node, String what) {
        VMRestoreStatus s = new VMRestoreStatus();
        s.setPhase(Phase.InProgress);
        s.setTargetNode(node);
        s.setConditions(conditions(status, facts).set(ConditionTypes.COMPLETE, false, "InProgress", what).buildKeepingOthers());
        return new Step.Write(s, new Transition(Phase.InProgress, "Started", what, false), false, RECHECK_MILLIS);
    }

    /** Failed; {@code release} when the VM carries this restore's annotations already. */
    public static Step failed(VMRestoreStatus status, Facts facts, String reason, String message, boolean release) {
        VMRestoreStatus s = new VMRestoreStatus();
        s.setPhase(Phase.Failed);
        s.setError(reason + ": " + message);
        s.setCompletionTime(facts.now().toString());
        s.setConditions(conditions(status, facts).set(ConditionTypes.COMPLETE, false, reason, message).buildKeepingOthers());
        return new Step.Write(s, new Transition(Phase.Failed, reason, message, true), release, 0);
    }

    private static Conditions conditions(VMRestoreStatus status, Facts facts) {
        return new Conditions(status == null ? null : status.getConditions(), facts.generation(), facts.now());
    }
}
