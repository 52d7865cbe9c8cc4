package io.kubevmm.operator.migration;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.operator.operation.OperationWriter;
import io.kubevmm.api.validation.SpecValidator;
import io.kubevmm.operator.scheduling.NodeInventory;
import io.kubevmm.operator.scheduling.Scheduler;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The operator's part of a VMMigration, and the only writer of its phase: admission (validate,
 * wait for a slot, choose the target), the labels the two node runtimes select on, and from then
 * on the phases derived by {@link MigrationPhases#next} from the facts the nodes report in
 * {@code status.target} and {@code status.source}; at the end it hands the VMI over to the target.
 */
// The node runtimes report facts in status: their writes must wake this reconciler too.
@ControllerConfiguration(name = MigrationReconciler.NAME, generationAwareEventProcessing = false)
public class MigrationReconciler implements Reconciler<VMMigration> {
    static final String NAME = "vmmigration";

    private final KubernetesClient client;
    private final NodeInventory inventory;
    private final Scheduler scheduler;
    private final OperationWriter<VMMigration, VMMigrationStatus> writer;
    private final MigrationHandOver handOver;
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
        this.writer = new OperationWriter<>(client, new EventWriter(client, "kubevmm-operator", instance), metrics, "kubevmm.migration",
                Set.of(Phase.Succeeded.name(), Phase.Failed.name(), Phase.Cancelled.name()), VMMigration::getStatus,
                VMMigrationStatus::getConditions, MigrationReconciler::conditionsOnly);
        this.handOver = new MigrationHandOver(client);
        this.metrics = metrics;
        this.limits = new MigrationAdmission.Limits(maxParallel, maxOutbound);
        this.targetReadyTimeout = targetReadyTimeout;
        this.completionTimeout = new CompletionTimeout(timeoutPerGiB, timeoutFloor);
    }

    @Override
    public UpdateControl<VMMigration> reconcile(VMMigration migration, Context<VMMigration> context) {
        migration = writer.begin(migration);
        MigrationPhases.Facts facts = facts(migration);
        MigrationPhases.Step step = MigrationPhases.next(migration.getSpec(), migration.getStatus(), facts);
        return switch (step) {
            case MigrationPhases.Step.Admit a -> admit(migration, facts);
            case MigrationPhases.Step.Label l -> {
                handOver.label(migration, migration.getStatus().getSourceNode(), migration.getStatus().getTargetNode());
                yield UpdateControl.<VMMigration>noUpdate().rescheduleAfter(MigrationPhases.RECHECK_MILLIS);
            }
            case MigrationPhases.Step.Wait w -> OperationWriter.after(w.recheckMillis());
            case MigrationPhases.Step.HandOver h -> {
                handOver.handOver(migration, h.target());
                yield OperationWriter.after(MigrationPhases.HAND_OVER_RECHECK_MILLIS);
            }
            case MigrationPhases.Step.Write w -> apply(migration, w);
        };
    }

    private MigrationPhases.Facts facts(VMMigration migration) {
        var labels = migration.getMetadata().getLabels();
        boolean labelled = labels != null && labels.containsKey(Labels.SOURCE_NODE) && labels.containsKey(Labels.TARGET_NODE);
        long generation = migration.getMetadata().getGeneration() == null ? 0 : migration.getMetadata().getGeneration();
        var status = migration.getStatus();
        MigrationPhases.Instance instance = null;
        if (status != null && status.getSource() != null && status.getSource().getCompletedTime() != null) {
            VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace(migration.getMetadata().getNamespace())
                    .withName(migration.getSpec().getVmName()).get();
            instance = vmi == null ? null : new MigrationPhases.Instance(vmi.getSpec() == null ? null : vmi.getSpec().getNodeName(),
                    vmi.getStatus() == null ? null : vmi.getStatus().getNodeName());
        }
        return new MigrationPhases.Facts(labelled, Instant.now(), targetReadyTimeout, generation, instance);
    }

    private UpdateControl<VMMigration> admit(VMMigration migration, MigrationPhases.Facts facts) {
        VMMigrationStatus status = migration.getStatus();
        List<FieldError> errors = SpecValidator.validate(migration.getSpec());
        if (!errors.isEmpty()) {
            return apply(migration, MigrationPhases.rejected(status, facts, "InvalidSpec",
                    errors.stream().map(FieldError::toString).collect(Collectors.joining("; "))));
        }
        String namespace = migration.getMetadata().getNamespace();
        String vmName = migration.getSpec().getVmName();
        VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace(namespace).withName(vmName).get();
        if (vm == null) {
            return apply(migration, MigrationPhases.rejected(status, facts, "VMNotFound", "spec.vmName: there is no VirtualMachine "
                    + vmName + " in namespace " + namespace));
        }
        VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace(namespace).withName(vmName).get();
        var decision = MigrationAdmission.decide(migration, vmi, scheduler, Scheduler.Request.of(vm), inventory.candidates(namespace, vmName),
                client.resources(VMMigration.class).inAnyNamespace().list().getItems(),
                client.resources(VMSnapshot.class).inNamespace(namespace).list().getItems(), limits);
        return switch (decision) {
            case MigrationAdmission.Decision.Reject r -> apply(migration, MigrationPhases.rejected(status, facts, r.reason(), r.message()));
            case MigrationAdmission.Decision.Wait w -> apply(migration, MigrationPhases.queued(status, facts, w.reason(), w.message()));
            case MigrationAdmission.Decision.Admit a -> {
                long timeout = completionTimeout.seconds(migration.getSpec().getCompletionTimeoutSeconds(),
                        Scheduler.Request.of(vm).memoryBytes());
                var step = MigrationPhases.scheduled(status, facts, a.sourceNode(), a.targetNode(), timeout,
                        "migrating VM " + vmName + " from " + a.sourceNode() + " to " + a.targetNode()
                                + "; preparing the target; completion timeout " + timeout + "s"
                                + (migration.getSpec().getCompletionTimeoutSeconds() == null ? " (default for its memory)" : ""));
                // Status first, labels after: the labels are what the two node runtimes select on, so
                // the target can report it is ready only once Scheduling is stored (commit 912d1fb).
                UpdateControl<VMMigration> control = apply(migration, step);
                handOver.label(migration, a.sourceNode(), a.targetNode());
                metrics.counter("kubevmm.migration.scheduled").increment();
                yield control;
            }
        };
    }

    private UpdateControl<VMMigration> apply(VMMigration migration, MigrationPhases.Step step) {
        if (step instanceof MigrationPhases.Step.Write w) {
            var t = w.transition();
            return writer.write(migration, w.status(), t == null ? null
                    : new OperationWriter.Change(t.to().name(), t.reason(), t.message(), t.warning()), w.recheckMillis());
        }
        return OperationWriter.after(step instanceof MigrationPhases.Step.Wait w ? w.recheckMillis() : MigrationPhases.RECHECK_MILLIS);
    }

    /** A reconcile that threw shows in status (condition ReconcileError) and as an Event; the SDK retries. */
    @Override
    public ErrorStatusUpdateControl<VMMigration> updateErrorStatus(VMMigration migration, Context<VMMigration> context, Exception e) {
        return writer.failed(migration, e);
    }

    private static VMMigrationStatus conditionsOnly(List<io.fabric8.kubernetes.api.model.Condition> conditions) {
        VMMigrationStatus status = new VMMigrationStatus();
        status.setConditions(conditions);
        return status;
    }
}
