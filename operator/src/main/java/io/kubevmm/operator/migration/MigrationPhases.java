package io.kubevmm.operator.migration;

import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.MigrationNodeFacts;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Objects;

/**
 * The phase machine of a VMMigration, pure: from the spec, the stored status (the operator's
 * fields and the facts the two node runtimes report in {@code status.source} and
 * {@code status.target}) and what the operator sees now, the next step. The operator is the one
 * writer of the phase, the conditions and the summary fields; the nodes only report what they did.
 *
 * <p>A completed transfer wins over everything else: QEMU has already moved the guest, so the
 * VMI is handed over to the target even when the migration was cancelled or marked failed
 * meanwhile; otherwise a guest could be left without a managed copy. Succeeded is stored once the
 * target reports the VMI's status (or, if it does not, after the target-ready timeout), so a
 * client that reads Succeeded finds the VMI's status, console and QEMU on the target.
 */
public final class MigrationPhases {
    static final long RECHECK_MILLIS = 5000;
    /** How often the hand-over is looked at while the target takes the VMI's status over. */
    static final long HAND_OVER_RECHECK_MILLIS = 500;

    private MigrationPhases() { }

    /**
     * What the operator sees besides the object: labels on, the clock, its timeout, the object's
     * generation, and the VM's instance (read once the source reports completion; null if gone).
     */
    public record Facts(boolean labelled, Instant now, Duration targetReadyTimeout, long generation, Instance instance) {
        public Facts(boolean labelled, Instant now, Duration targetReadyTimeout, long generation) {
            this(labelled, now, targetReadyTimeout, generation, null);
        }
    }

    /** The VMI: the node its spec names, and the node that wrote its status. */
    public record Instance(String nodeName, String reportedBy) { }

    /** A phase change: the Event (reason, message) and the metric it gives. */
    public record Transition(Phase to, String reason, String message, boolean warning) { }

    /** The next step of one migration. */
    public sealed interface Step {
        /** Pending: run admission (limits, target choice), which needs the API. */
        record Admit() implements Step { }

        /** Scheduling is stored but the node labels are not (the operator stopped between the writes): put them on. */
        record Label() implements Step { }

        /** Nothing to write; look again after {@code recheckMillis} (0: only when something changes). */
        record Wait(long recheckMillis) implements Step { }

        /** The transfer is complete: point the VMI at {@code target} (its node label and spec.nodeName). */
        record HandOver(String target) implements Step { }

        /** Write {@code status} (the operator's fields only); {@code transition} is null for progress figures alone. */
        record Write(VMMigrationStatus status, Transition transition, long recheckMillis) implements Step { }
    }

    public static Step next(VMMigrationSpec spec, VMMigrationStatus status, Facts facts) {
        Phase phase = status == null || status.getPhase() == null ? Phase.Pending : status.getPhase();
        MigrationNodeFacts source = status == null || status.getSource() == null ? new MigrationNodeFacts() : status.getSource();
        MigrationNodeFacts target = status == null || status.getTarget() == null ? new MigrationNodeFacts() : status.getTarget();
        boolean cancel = Boolean.TRUE.equals(spec.getCancel());

        if (source.getCompletedTime() != null) {
            return phase == Phase.Succeeded ? new Step.Wait(0) : completed(status, source, target, facts,
                    io.kubevmm.api.v1alpha1.SpecDefaults.maxDowntimeMillis(spec));
        }
        switch (phase) {
            case Succeeded, Failed, Cancelled -> {
                return new Step.Wait(0);
            }
            case Pending -> {
                return cancel ? finish(status, facts, Phase.Cancelled, "Cancelled", "cancelled before it started", target)
                        : new Step.Admit();
            }
            default -> { }
        }
        if (source.getFailedTime() != null) {
            boolean cancelled = Boolean.TRUE.equals(source.getCancelled());
            return finish(status, facts, cancelled ? Phase.Cancelled : Phase.Failed,
                    Objects.requireNonNullElse(source.getFailureReason(), "TransferFailed"),
                    Objects.requireNonNullElse(source.getMessage(), "the source gave up"), target);
        }
        boolean sending = source.getStartTime() != null;
        if (!sending && target.getFailedTime() != null) {
            return finish(status, facts, Phase.Failed, Objects.requireNonNullElse(target.getFailureReason(), "TargetFailed"),
                    "node " + status.getTargetNode() + " could not prepare the target: " + target.getMessage(), target);
        }
        if (!sending && cancel) {
            return finish(status, facts, Phase.Cancelled, "Cancelled", "cancelled before the transfer started; the VM stays on "
                    + status.getSourceNode(), target);
        }
        return switch (phase) {
            case Scheduling, TargetReady -> waiting(status, phase, source, target, facts);
            case Running -> source.getPostCopyTime() != null
                    ? write(status, facts, target, figures(status, source, Phase.PostCopy, "PostCopy"),
                    new Transition(Phase.PostCopy, "PostCopy", "VM " + spec.getVmName() + " switched to post-copy: it runs on "
                            + status.getTargetNode() + " and its remaining memory follows", false))
                    : follow(status, source, target, facts, Phase.Running, "PreCopy");
            case PostCopy -> follow(status, source, target, facts, Phase.PostCopy, "PostCopy");
            default -> throw new IllegalStateException("unreachable: " + phase);
        };
    }

    /** Scheduling or TargetReady: the target prepares, then the source starts; each wait is bounded. */
    private static Step waiting(VMMigrationStatus status, Phase phase, MigrationNodeFacts source, MigrationNodeFacts target,
                                Facts facts) {
        if (source.getStartTime() != null) {
            VMMigrationStatus s = figures(status, source, Phase.Running, "PreCopy");
            s.setStartTime(source.getStartTime());
            return write(status, facts, target, s, new Transition(Phase.Running, "Running",
                    Objects.requireNonNullElse(source.getMessage(), "sending to " + status.getTargetNode()), false));
        }
        if (phase == Phase.Scheduling && target.getReadyTime() != null) {
            VMMigrationStatus s = new VMMigrationStatus();
            s.setPhase(Phase.TargetReady);
            return write(status, facts, target, s, new Transition(Phase.TargetReady, "TargetReady",
                    "node " + status.getTargetNode() + " is ready to receive the VM", false));
        }
        if (phase == Phase.Scheduling && !facts.labelled()) {
            return new Step.Label();
        }
        String since = phase == Phase.TargetReady ? ConditionTypes.TARGET_READY : ConditionTypes.SCHEDULED;
        boolean tooLong = Conditions.find(status.getConditions(), since)
                .map(c -> ZonedDateTime.parse(c.getLastTransitionTime()).toInstant())
                .map(t -> t.plus(facts.targetReadyTimeout()).isBefore(facts.now()))
                .orElse(false);
        if (tooLong && phase == Phase.Scheduling && downloading(target, facts)) {
            tooLong = false; // the target reports download progress: the wait is bounded from its latest report
        }
        if (tooLong) {
            boolean scheduling = phase == Phase.Scheduling;
            return finish(status, facts, Phase.Failed, scheduling ? "TargetNotReady" : "SourceNotStarted",
                    (scheduling ? "node " + status.getTargetNode() + " did not prepare the target"
                            : "node " + status.getSourceNode() + " did not start sending")
                            + " within " + facts.targetReadyTimeout().toSeconds() + "s; the VM stays on " + status.getSourceNode(), target);
        }
        return new Step.Wait(RECHECK_MILLIS);
    }

    /** The target downloads the VM's base images and reported progress within the target-ready timeout. */
    static boolean downloading(MigrationNodeFacts target, Facts facts) {
        return target.getImages() != null && !target.getImages().isEmpty() && target.getSampleTime() != null
                && Instant.parse(target.getSampleTime()).plus(facts.targetReadyTimeout()).isAfter(facts.now());
    }

    /** Running or PostCopy without a new fact: copy the source's latest figures when they changed. */
    private static Step follow(VMMigrationStatus status, MigrationNodeFacts source, MigrationNodeFacts target, Facts facts,
                               Phase phase, String mode) {
        boolean changed = !Objects.equals(source.getIterations(), status.getIterations())
                || !Objects.equals(source.getTransferredBytes(), status.getTransferredBytes())
                || !Objects.equals(source.getRemainingBytes(), status.getRemainingBytes())
                || !Objects.equals(source.getDirtyRateBytesPerSecond(), status.getDirtyRateBytesPerSecond())
                || !Objects.equals(source.getThrottlePercent(), status.getThrottlePercent())
                || (target.getCompletedTime() != null && !Conditions.isTrue(status.getConditions(), ConditionTypes.TARGET_RUNNING));
        // The source drives the transfer, its completion timeout and cancellation from here on.
        return changed ? write(status, facts, target, figures(status, source, phase, mode), null) : new Step.Wait(0);
    }

    private static VMMigrationStatus figures(VMMigrationStatus status, MigrationNodeFacts source, Phase phase, String mode) {
        VMMigrationStatus s = new VMMigrationStatus();
        s.setPhase(phase);
        s.setMode(mode);
        s.setIterations(source.getIterations());
        s.setTransferredBytes(source.getTransferredBytes());
        s.setRemainingBytes(source.getRemainingBytes());
        s.setDirtyRateBytesPerSecond(source.getDirtyRateBytesPerSecond());
        s.setThrottlePercent(source.getThrottlePercent());
        if (status.getStartTime() == null) {
            s.setStartTime(source.getStartTime());
        }
        return s;
    }

    /** Hand over, wait for the target to report the VMI, then Succeeded. */
    private static Step completed(VMMigrationStatus status, MigrationNodeFacts source, MigrationNodeFacts target, Facts facts,
                                  long maxDowntimeMillis) {
        Instance vmi = facts.instance();
        String to = status.getTargetNode();
        if (vmi != null && !to.equals(vmi.nodeName())) {
            return new Step.HandOver(to);
        }
        boolean reported = vmi == null || to.equals(vmi.reportedBy());
        boolean waitedLongEnough = ZonedDateTime.parse(source.getCompletedTime()).toInstant()
                .plus(facts.targetReadyTimeout()).isBefore(facts.now());
        if (!reported && !waitedLongEnough) {
            return new Step.Wait(HAND_OVER_RECHECK_MILLIS);
        }
        return succeeded(status, source, target, facts, maxDowntimeMillis);
    }

    /** {@code maxDowntimeMillis}: the pause the spec allows (QEMU aims below it; a busy host can overshoot). */
    private static Step succeeded(VMMigrationStatus status, MigrationNodeFacts source, MigrationNodeFacts target, Facts facts,
                                  long maxDowntimeMillis) {
        VMMigrationStatus s = new VMMigrationStatus();
        s.setPhase(Phase.Succeeded);
        s.setMode(source.getPostCopyTime() != null ? "PostCopy" : status.getMode() == null ? "PreCopy" : status.getMode());
        s.setDowntimeMillis(source.getDowntimeMillis());
        s.setTotalTimeMillis(source.getTotalTimeMillis());
        s.setTransferredBytes(source.getTransferredBytes());
        s.setIterations(source.getIterations());
        s.setRemainingBytes(0L);
        if (status.getStartTime() == null) {
            s.setStartTime(source.getStartTime());
        }
        s.setCompletionTime(source.getCompletedTime());
        String message = source.getDowntimeMillis() == null
                ? Objects.requireNonNullElse(source.getMessage(), "the guest runs on " + status.getTargetNode())
                : "moved from " + status.getSourceNode() + " to " + status.getTargetNode() + ": downtime "
                + source.getDowntimeMillis() + " ms, total " + source.getTotalTimeMillis() + " ms, "
                + (Objects.requireNonNullElse(source.getTransferredBytes(), 0L) >> 20) + " MiB in "
                + source.getIterations() + " passes";
        // QEMU's limit is a prediction from the bandwidth it measured: a measured pause above it is
        // reported (Warning Event, condition reason), never hidden behind a plain success.
        boolean overLimit = source.getDowntimeMillis() != null && source.getDowntimeMillis() > maxDowntimeMillis;
        String reason = overLimit ? "SucceededAboveMaxDowntime" : "Succeeded";
        if (overLimit) {
            message += "; the pause was longer than the " + maxDowntimeMillis + " ms spec.maxDowntimeMillis allows"
                    + " (QEMU predicts it from the bandwidth it measured; a busy source or target host stretches it)";
        }
        s.setConditions(conditions(status, facts, target).set(ConditionTypes.COMPLETED, true, reason, message).buildKeepingOthers());
        return new Step.Write(s, new Transition(Phase.Succeeded, reason, message, overLimit), 0);
    }

    private static Step finish(VMMigrationStatus status, Facts facts, Phase phase, String reason, String message,
                               MigrationNodeFacts target) {
        VMMigrationStatus s = new VMMigrationStatus();
        s.setPhase(phase);
        s.setCompletionTime(facts.now().toString());
        s.setFailureReason(phase == Phase.Failed ? reason + ": " + message : null);
        s.setConditions(conditions(status, facts, target).set(ConditionTypes.COMPLETED, phase != Phase.Failed, reason, message)
                .buildKeepingOthers());
        return new Step.Write(s, new Transition(phase, reason, message, phase == Phase.Failed), 0);
    }

    /** Failed at admission (invalid spec, no such VM, no node fits...). */
    public static Step rejected(VMMigrationStatus status, Facts facts, String reason, String message) {
        return finish(status, facts, Phase.Failed, reason, message, null);
    }

    /** Admission must wait (limits, a snapshot under way): Pending with the reason, written when it changes. */
    public static Step queued(VMMigrationStatus status, Facts facts, String reason, String message) {
        var previous = status == null ? null : Conditions.find(status.getConditions(), ConditionTypes.SCHEDULED).orElse(null);
        if (previous != null && message.equals(previous.getMessage())) {
            return new Step.Wait(RECHECK_MILLIS);
        }
        VMMigrationStatus s = new VMMigrationStatus();
        s.setPhase(Phase.Pending);
        s.setConditions(conditions(status, facts, null).set(ConditionTypes.SCHEDULED, false, reason, message).buildKeepingOthers());
        return new Step.Write(s, new Transition(Phase.Pending, reason, message, false), RECHECK_MILLIS);
    }

    /** Admitted: Scheduling with both nodes and the completion timeout in effect. */
    public static Step scheduled(VMMigrationStatus status, Facts facts, String sourceNode, String targetNode, long timeoutSeconds,
                                 String message) {
        VMMigrationStatus s = new VMMigrationStatus();
        s.setPhase(Phase.Scheduling);
        s.setSourceNode(sourceNode);
        s.setTargetNode(targetNode);
        s.setCompletionTimeoutSeconds(timeoutSeconds);
        s.setConditions(conditions(status, facts, null).set(ConditionTypes.SCHEDULED, true, "Scheduled", sourceNode + " -> " + targetNode)
                .buildKeepingOthers());
        return new Step.Write(s, new Transition(Phase.Scheduling, "Scheduled", message, false), RECHECK_MILLIS);
    }

    private static Step write(VMMigrationStatus status, Facts facts, MigrationNodeFacts target, VMMigrationStatus s,
                              Transition transition) {
        s.setConditions(conditions(status, facts, target).buildKeepingOthers());
        return new Step.Write(s, transition, transition != null && transition.to() == Phase.TargetReady ? RECHECK_MILLIS : 0);
    }

    /** The conditions the target's facts give (TargetReady, TargetRunning), over the stored ones. */
    private static Conditions conditions(VMMigrationStatus status, Facts facts, MigrationNodeFacts target) {
        Conditions c = new Conditions(status == null ? null : status.getConditions(), facts.generation(), facts.now());
        if (target != null && target.getReadyTime() != null) {
            c.set(ConditionTypes.TARGET_READY, true, "IncomingEmulatorListening", Objects.requireNonNullElse(target.getMessage(),
                    "the incoming emulator waits for the guest's state"));
        }
        if (target != null && target.getCompletedTime() != null) {
            c.set(ConditionTypes.TARGET_RUNNING, true, "GuestArrived", "node " + target.getNode() + " runs the guest");
        }
        return c;
    }
}
