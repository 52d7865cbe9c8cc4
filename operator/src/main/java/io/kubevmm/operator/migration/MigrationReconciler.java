package io.kubevmm.operator.migration;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.api.validation.SpecValidator;
import io.kubevmm.operator.scheduling.NodeInventory;
import io.kubevmm.operator.scheduling.Scheduler;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The operator's part of a VMMigration: validate it, wait for a slot, choose the target, label
 * it for the two node runtimes, and fail or cancel it when they cannot go on. The node runtimes
 * write the phases they own: TargetReady (target), Running, PostCopy and the outcome (source).
 */
// The node runtimes write the phases: their status changes must wake this reconciler too.
@ControllerConfiguration(name = MigrationReconciler.NAME, generationAwareEventProcessing = false)
public class MigrationReconciler implements Reconciler<VMMigration> {
    static final String NAME = "vmmigration";
    private static final long RECHECK_MILLIS = 5000;

    private final KubernetesClient client;
    private final NodeInventory inventory;
    private final Scheduler scheduler;
    private final EventWriter events;
    private final MeterRegistry metrics;
    private final MigrationAdmission.Limits limits;
    private final Duration targetReadyTimeout;
    private final CompletionTimeout completionTimeout;

    MigrationReconciler(KubernetesClient client, NodeInventory inventory, MeterRegistry metrics,
                        @ConfigProperty(name = "kubevmm.operator.scheduling", defaultValue = "spread") String strategy,
                        @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance,
                        @ConfigProperty(name = "kubevmm.operator.migration.max-parallel", defaultValue = "5") int maxParallel,
                        @ConfigProperty(name = "kubevmm.operator.migration.max-outbound-per-node", defaultValue = "2") int maxOutbound,
                        @ConfigProperty(name = "kubevmm.operator.migration.target-ready-timeout", defaultValue = "90s") Duration targetReadyTimeout,
                        @ConfigProperty(name = "kubevmm.operator.migration.completion-timeout-per-gib", defaultValue = "150s") Duration timeoutPerGiB,
                        @ConfigProperty(name = "kubevmm.operator.migration.completion-timeout-floor", defaultValue = "60s") Duration timeoutFloor) {
        this.client = client;
        this.inventory = inventory;
        this.scheduler = new Scheduler(Scheduler.Strategy.valueOf(strategy.toUpperCase()));
        this.events = new EventWriter(client, "kubevmm-operator", instance);
        this.metrics = metrics;
        this.limits = new MigrationAdmission.Limits(maxParallel, maxOutbound);
        this.targetReadyTimeout = targetReadyTimeout;
        this.completionTimeout = new CompletionTimeout(timeoutPerGiB, timeoutFloor);
    }

    @Override
    public UpdateControl<VMMigration> reconcile(VMMigration migration, Context<VMMigration> context) {
        Phase phase = migration.getStatus() == null || migration.getStatus().getPhase() == null
                ? Phase.Pending : migration.getStatus().getPhase();
        boolean cancel = Boolean.TRUE.equals(migration.getSpec().getCancel());
        return switch (phase) {
            case Succeeded, Failed, Cancelled -> UpdateControl.noUpdate();
            case Pending -> cancel ? finish(migration, Phase.Cancelled, "Cancelled", "cancelled before it started") : admit(migration);
            case Scheduling, TargetReady -> {
                if (cancel) {
                    yield finish(migration, Phase.Cancelled, "Cancelled", "cancelled before the transfer started; the VM stays on "
                            + migration.getStatus().getSourceNode());
                }
                if (phase == Phase.Scheduling && !labelled(migration) && migration.getStatus().getSourceNode() != null
                        && migration.getStatus().getTargetNode() != null) {
                    label(migration, migration.getStatus().getSourceNode(), migration.getStatus().getTargetNode());
                }
                if (waitedTooLong(migration)) {
                    yield finish(migration, Phase.Failed, phase == Phase.Scheduling ? "TargetNotReady" : "SourceNotStarted",
                            (phase == Phase.Scheduling ? "node " + migration.getStatus().getTargetNode() + " did not prepare the target"
                                    : "node " + migration.getStatus().getSourceNode() + " did not start sending")
                            + " within " + targetReadyTimeout.toSeconds() + "s; the VM stays on " + migration.getStatus().getSourceNode());
                }
                yield UpdateControl.<VMMigration>noUpdate().rescheduleAfter(RECHECK_MILLIS);
            }
            // The source node runtime drives the transfer, its timeout and cancellation from here on.
            case Running, PostCopy -> UpdateControl.noUpdate();
        };
    }

    private UpdateControl<VMMigration> admit(VMMigration migration) {
        List<FieldError> errors = SpecValidator.validate(migration.getSpec());
        if (!errors.isEmpty()) {
            return finish(migration, Phase.Failed, "InvalidSpec", errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
        }
        String namespace = migration.getMetadata().getNamespace();
        String vmName = migration.getSpec().getVmName();
        VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace(namespace).withName(vmName).get();
        if (vm == null) {
            return finish(migration, Phase.Failed, "VMNotFound", "spec.vmName: there is no VirtualMachine " + vmName
                    + " in namespace " + namespace);
        }
        VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace(namespace).withName(vmName).get();
        var decision = MigrationAdmission.decide(migration, vmi, scheduler, Scheduler.Request.of(vm), inventory.candidates(namespace, vmName),
                client.resources(VMMigration.class).inAnyNamespace().list().getItems(),
                client.resources(VMSnapshot.class).inNamespace(namespace).list().getItems(), limits);
        return switch (decision) {
            case MigrationAdmission.Decision.Reject r -> finish(migration, Phase.Failed, r.reason(), r.message());
            case MigrationAdmission.Decision.Wait w -> waitFor(migration, w);
            case MigrationAdmission.Decision.Admit a -> schedule(migration, a, Scheduler.Request.of(vm).memoryBytes());
        };
    }

    private UpdateControl<VMMigration> waitFor(VMMigration migration, MigrationAdmission.Decision.Wait wait) {
        var previous = migration.getStatus() == null ? null : Conditions.find(migration.getStatus().getConditions(), "Scheduled");
        if (previous == null || previous.isEmpty() || !wait.message().equals(previous.get().getMessage())) {
            VMMigrationStatus status = new VMMigrationStatus();
            status.setPhase(Phase.Pending);
            status.setConditions(conditions(migration).set("Scheduled", false, wait.reason(), wait.message()).build());
            StatusPatch.status(client, migration, status);
            events.normal(migration, wait.reason(), wait.message());
        }
        return UpdateControl.<VMMigration>noUpdate().rescheduleAfter(RECHECK_MILLIS);
    }

    private void label(VMMigration migration, String sourceNode, String targetNode) {
        StatusPatch.labels(client, migration, Map.of(Labels.SOURCE_NODE, sourceNode,
                Labels.TARGET_NODE, targetNode, Labels.VM, migration.getSpec().getVmName()));
    }

    /** Whether the node labels are on (the operator may have stopped between the status and the labels). */
    private static boolean labelled(VMMigration migration) {
        var labels = migration.getMetadata().getLabels();
        return labels != null && labels.containsKey(Labels.SOURCE_NODE) && labels.containsKey(Labels.TARGET_NODE);
    }

    private UpdateControl<VMMigration> schedule(VMMigration migration, MigrationAdmission.Decision.Admit admit, long memoryBytes) {
        // Status first, labels after: the labels are what the two node runtimes select on, so the
        // target can report TargetReady only once Scheduling is stored. The other way round a fast
        // target's TargetReady was overwritten by this Scheduling, and the migration failed
        // TargetNotReady with its target waiting.
        VMMigrationStatus status = new VMMigrationStatus();
        status.setPhase(Phase.Scheduling);
        status.setSourceNode(admit.sourceNode());
        status.setTargetNode(admit.targetNode());
        long timeout = completionTimeout.seconds(migration.getSpec().getCompletionTimeoutSeconds(), memoryBytes);
        status.setCompletionTimeoutSeconds(timeout);
        status.setConditions(conditions(migration).set("Scheduled", true, "Scheduled",
                admit.sourceNode() + " -> " + admit.targetNode()).build());
        StatusPatch.status(client, migration, status);
        label(migration, admit.sourceNode(), admit.targetNode());
        events.normal(migration, "Scheduled", "migrating VM " + migration.getSpec().getVmName() + " from " + admit.sourceNode()
                + " to " + admit.targetNode() + "; preparing the target; completion timeout " + timeout + "s"
                + (migration.getSpec().getCompletionTimeoutSeconds() == null ? " (default for its memory)" : ""));
        metrics.counter("kubevmm.migration.scheduled").increment();
        return UpdateControl.<VMMigration>noUpdate().rescheduleAfter(RECHECK_MILLIS);
    }

    /** Since scheduling (target not ready yet) or since TargetReady (source not started yet). */
    private boolean waitedTooLong(VMMigration migration) {
        String condition = migration.getStatus().getPhase() == Phase.TargetReady ? "TargetReady" : "Scheduled";
        return Conditions.find(migration.getStatus().getConditions(), condition)
                .map(c -> ZonedDateTime.parse(c.getLastTransitionTime()).toInstant())
                .map(since -> since.plus(targetReadyTimeout).isBefore(Instant.now()))
                .orElse(false);
    }

    private UpdateControl<VMMigration> finish(VMMigration migration, Phase phase, String reason, String message) {
        VMMigrationStatus status = new VMMigrationStatus();
        status.setPhase(phase);
        status.setCompletionTime(Instant.now().toString());
        status.setFailureReason(phase == Phase.Failed ? reason + ": " + message : null);
        status.setConditions(conditions(migration).set("Completed", phase != Phase.Failed, reason, message).build());
        StatusPatch.status(client, migration, status);
        if (phase == Phase.Failed) {
            events.warning(migration, reason, message);
        } else {
            events.normal(migration, reason, message);
        }
        metrics.counter("kubevmm.migration.outcomes", "outcome", phase.name(), "reason", reason).increment();
        return UpdateControl.noUpdate();
    }

    private static Conditions conditions(VMMigration migration) {
        long generation = migration.getMetadata().getGeneration() == null ? 0 : migration.getMetadata().getGeneration();
        return new Conditions(migration.getStatus() == null ? null : migration.getStatus().getConditions(), generation);
    }

}
