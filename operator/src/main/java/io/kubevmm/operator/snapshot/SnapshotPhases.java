package io.kubevmm.operator.snapshot;

import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.SnapshotNodeFacts;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus.Phase;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Objects;

/**
 * The phase machine of a VMSnapshot, pure: from the stored status (the operator's fields and the
 * facts the node taking it reports in {@code status.node}) and the clock, the next step. The
 * operator is the one writer of the phase, the conditions and the fields users read; the node
 * only reports that it started, stored the snapshot (with what it measured) or gave up.
 */
public final class SnapshotPhases {
    static final long RECHECK_MILLIS = 5000;

    private SnapshotPhases() { }

    /** The clock, how long a node may take to start, and the object's generation. */
    public record Facts(Instant now, Duration nodeStartTimeout, long generation) { }

    /** A phase change: its Event and metric. */
    public record Transition(Phase to, String reason, String message, boolean warning) { }

    public sealed interface Step {
        /** Not handed to a node yet: run admission. */
        record Admit() implements Step { }

        /** Nothing to write; look again after {@code recheckMillis} (0: only when something changes). */
        record Wait(long recheckMillis) implements Step { }

        /** Write the operator's fields in {@code status}; {@code transition} says what changed. */
        record Write(VMSnapshotStatus status, Transition transition, long recheckMillis) implements Step { }
    }

    public static Step next(VMSnapshotSpec spec, VMSnapshotStatus status, Facts facts) {
        Phase phase = status == null || status.getPhase() == null ? Phase.Pending : status.getPhase();
        if (phase == Phase.Ready || phase == Phase.Failed) {
            return new Step.Wait(0);
        }
        if (status == null || status.getNodeName() == null) {
            return new Step.Admit();
        }
        SnapshotNodeFacts node = status.getNode() == null ? new SnapshotNodeFacts() : status.getNode();
        if (node.getCompletedTime() != null) {
            return ready(spec, status, node, facts);
        }
        if (node.getFailedTime() != null) {
            return failed(status, facts, Objects.requireNonNullElse(node.getFailureReason(), "SnapshotFailed"),
                    Objects.requireNonNullElse(node.getMessage(), "node " + status.getNodeName() + " gave up"));
        }
        if (phase == Phase.Pending && node.getStartTime() != null) {
            VMSnapshotStatus s = new VMSnapshotStatus();
            s.setPhase(Phase.InProgress);
            s.setReadyToUse(false);
            String type = typeOf(spec);
            s.setConditions(conditions(status, facts).set(ConditionTypes.READY, false, "InProgress", "taking the " + type + " snapshot")
                    .buildKeepingOthers());
            return new Step.Write(s, new Transition(Phase.InProgress, "Started", "taking a " + type + " snapshot of VM "
                    + spec.getVmName() + " on " + status.getNodeName(), false), 0);
        }
        if (phase == Phase.Pending) {
            boolean late = Conditions.find(status.getConditions(), ConditionTypes.SCHEDULED)
                    .map(c -> ZonedDateTime.parse(c.getLastTransitionTime()).toInstant())
                    .map(since -> since.plus(facts.nodeStartTimeout()).isBefore(facts.now()))
                    .orElse(false);
            if (late) {
                return failed(status, facts, "NodeNotResponding", "node " + status.getNodeName() + " did not start the snapshot within "
                        + facts.nodeStartTimeout().toSeconds() + "s; delete this VMSnapshot and create it again");
            }
            return new Step.Wait(RECHECK_MILLIS);
        }
        return new Step.Wait(0);
    }

    private static Step ready(VMSnapshotSpec spec, VMSnapshotStatus status, SnapshotNodeFacts node, Facts facts) {
        VMSnapshotStatus s = new VMSnapshotStatus();
        s.setPhase(Phase.Ready);
        s.setReadyToUse(true);
        s.setSizeBytes(node.getSizeBytes());
        s.setPauseMillis(node.getPauseMillis());
        s.setDurationMillis(node.getDurationMillis());
        s.setCreationTime(node.getCreationTime());
        s.setContents(node.getContents());
        s.setIndications(node.getIndications());
        String type = typeOf(spec);
        s.setConditions(conditions(status, facts).set(ConditionTypes.READY, true, "Ready", type + " snapshot stored on " + status.getNodeName())
                .buildKeepingOthers());
        return new Step.Write(s, new Transition(Phase.Ready, "Ready", String.format(
                "%s snapshot of VM %s stored on %s: guest paused %d ms, took %d ms, %d bytes", type, spec.getVmName(),
                status.getNodeName(), node.getPauseMillis(), node.getDurationMillis(), node.getSizeBytes()), false), 0);
    }

    /** Failed, at admission or from the node's fact. */
    public static Step failed(VMSnapshotStatus status, Facts facts, String reason, String message) {
        VMSnapshotStatus s = new VMSnapshotStatus();
        s.setPhase(Phase.Failed);
        s.setReadyToUse(false);
        s.setError(reason + ": " + message);
        s.setConditions(conditions(status, facts).set(ConditionTypes.READY, false, reason, message).buildKeepingOthers());
        return new Step.Write(s, new Transition(Phase.Failed, reason, message, true), 0);
    }

    /** Admission must wait: Pending with the reason, written when it changes. */
    public static Step queued(VMSnapshotStatus status, Facts facts, String reason, String message) {
        var previous = status == null ? null : Conditions.find(status.getConditions(), ConditionTypes.SCHEDULED).orElse(null);
        if (previous != null && message.equals(previous.getMessage())) {
            return new Step.Wait(RECHECK_MILLIS);
        }
        VMSnapshotStatus s = new VMSnapshotStatus();
        s.setPhase(Phase.Pending);
        s.setReadyToUse(false);
        s.setConditions(conditions(status, facts).set(ConditionTypes.SCHEDULED, false, reason, message).buildKeepingOthers());
        return new Step.Write(s, new Transition(Phase.Pending, reason, message, false), RECHECK_MILLIS);
    }

    /** Handed to {@code node}: Pending until that node reports it started. */
    public static Step scheduled(VMSnapshotSpec spec, VMSnapshotStatus status, Facts facts, String node) {
        VMSnapshotStatus s = new VMSnapshotStatus();
        s.setPhase(Phase.Pending);
        s.setReadyToUse(false);
        s.setNodeName(node);
        s.setConditions(conditions(status, facts).set(ConditionTypes.SCHEDULED, true, "Scheduled", "node " + node + " takes the snapshot")
                .buildKeepingOthers());
        return new Step.Write(s, new Transition(Phase.Pending, "Scheduled", "node " + node + " takes the " + typeOf(spec)
                + " snapshot of VM " + spec.getVmName(), false), RECHECK_MILLIS);
    }

    /**
     * Whether the snapshot is being taken: InProgress, or reported started by its node before the
     * operator stored InProgress (the VM may be paused for it; a migration waits).
     */
    public static boolean beingTaken(VMSnapshotStatus status) {
        if (status == null || status.getPhase() == Phase.Ready || status.getPhase() == Phase.Failed) {
            return false;
        }
        SnapshotNodeFacts node = status.getNode();
        return status.getPhase() == Phase.InProgress
                || (node != null && node.getStartTime() != null && node.getCompletedTime() == null && node.getFailedTime() == null);
    }

    static String typeOf(VMSnapshotSpec spec) {
        return spec.getType() == null ? "FullState" : spec.getType().name();
    }

    private static Conditions conditions(VMSnapshotStatus status, Facts facts) {
        return new Conditions(status == null ? null : status.getConditions(), facts.generation(), facts.now());
    }
}
