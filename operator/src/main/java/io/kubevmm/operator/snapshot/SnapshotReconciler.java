package io.kubevmm.operator.snapshot;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.operator.operation.OperationWriter;
import io.kubevmm.api.validation.SpecValidator;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.util.Set;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The operator's part of a VMSnapshot, and the only writer of its phase: validate it, wait while
 * the VM migrates or is being snapshotted, hand it to the node that runs the VM (label
 * {@code kubevmm.io/node}), then derive InProgress, Ready or Failed ({@link SnapshotPhases#next})
 * from the facts that node reports in {@code status.node}; if it never starts, the snapshot fails
 * here after a timeout.
 */
// The node reports its facts in status: those writes must wake this reconciler too.
@ControllerConfiguration(name = SnapshotReconciler.NAME, generationAwareEventProcessing = false)
public class SnapshotReconciler implements Reconciler<VMSnapshot> {
    static final String NAME = "vmsnapshot";
    /** Annotation on a VMSnapshot: the VM's spec (JSON) when the snapshot was handed over. */
    public static final String VM_SPEC = "kubevmm.io/vm-spec";
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private final KubernetesClient client;
    private final OperationWriter<VMSnapshot, VMSnapshotStatus> writer;
    private final MeterRegistry metrics;
    private final Duration nodeStartTimeout;

    SnapshotReconciler(KubernetesClient client, MeterRegistry metrics,
                       @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance,
                       @ConfigProperty(name = "kubevmm.operator.snapshot.node-start-timeout", defaultValue = "120s") Duration nodeStartTimeout) {
        this.client = client;
        this.writer = new OperationWriter<>(client, new EventWriter(client, "kubevmm-operator", instance), metrics, "kubevmm.snapshot",
                Set.of(Phase.Ready.name(), Phase.Failed.name()), VMSnapshot::getStatus, VMSnapshotStatus::getConditions, SnapshotReconciler::conditionsOnly);
        this.metrics = metrics;
        this.nodeStartTimeout = nodeStartTimeout;
    }

    @Override
    public UpdateControl<VMSnapshot> reconcile(VMSnapshot snapshot, Context<VMSnapshot> context) {
        snapshot = writer.begin(snapshot);
        long generation = snapshot.getMetadata().getGeneration() == null ? 0 : snapshot.getMetadata().getGeneration();
        var facts = new SnapshotPhases.Facts(Instant.now(), nodeStartTimeout, generation);
        var step = SnapshotPhases.next(snapshot.getSpec(), snapshot.getStatus(), facts);
        return step instanceof SnapshotPhases.Step.Admit ? admit(snapshot, facts) : apply(snapshot, step);
    }

    private UpdateControl<VMSnapshot> admit(VMSnapshot snapshot, SnapshotPhases.Facts facts) {
        VMSnapshotStatus status = snapshot.getStatus();
        List<FieldError> errors = SpecValidator.validate(snapshot.getSpec());
        if (!errors.isEmpty()) {
            return apply(snapshot, SnapshotPhases.failed(status, facts, "InvalidSpec",
                    errors.stream().map(FieldError::toString).collect(Collectors.joining("; "))));
        }
        String namespace = snapshot.getMetadata().getNamespace();
        String vmName = snapshot.getSpec().getVmName();
        VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace(namespace).withName(vmName).get();
        var decision = SnapshotAdmission.decide(snapshot, vm,
                client.resources(VirtualMachineInstance.class).inNamespace(namespace).withName(vmName).get(),
                client.resources(VMMigration.class).inNamespace(namespace).list().getItems(),
                client.resources(VMSnapshot.class).inNamespace(namespace).list().getItems());
        return switch (decision) {
            case SnapshotAdmission.Decision.Reject r -> apply(snapshot, SnapshotPhases.failed(status, facts, r.reason(), r.message()));
            case SnapshotAdmission.Decision.Wait w -> apply(snapshot, SnapshotPhases.queued(status, facts, w.reason(), w.message()));
            case SnapshotAdmission.Decision.Admit a -> handOver(snapshot, vm, a.node(), facts);
        };
    }

    private UpdateControl<VMSnapshot> handOver(VMSnapshot snapshot, VirtualMachine vm, String node, SnapshotPhases.Facts facts) {
        // The VM's spec at this instant, so a clone can be defined even after the VM is deleted.
        var annotations = JSON.createObjectNode().put(VM_SPEC, JSON.valueToTree(vm.getSpec()).toString());
        client.resources(VMSnapshot.class).inNamespace(snapshot.getMetadata().getNamespace()).withName(snapshot.getMetadata().getName())
                .patch(PatchContext.of(PatchType.JSON_MERGE), JSON.createObjectNode().set("metadata",
                        JSON.createObjectNode().set("annotations", annotations)).toString());
        // The label first: it is what the node runtime selects on (it acts once status.nodeName names it).
        StatusPatch.labels(client, snapshot, Map.of(Labels.NODE, node, Labels.VM, snapshot.getSpec().getVmName()));
        var control = apply(snapshot, SnapshotPhases.scheduled(snapshot.getSpec(), snapshot.getStatus(), facts, node));
        metrics.counter("kubevmm.snapshot.scheduled", "type", SnapshotPhases.typeOf(snapshot.getSpec())).increment();
        return control;
    }

    /** Through the one writer: the operator's fields only (status.node stays the node's), an Event and metrics per phase change. */
    private UpdateControl<VMSnapshot> apply(VMSnapshot snapshot, SnapshotPhases.Step step) {
        if (step instanceof SnapshotPhases.Step.Write w) {
            var t = w.transition();
            return writer.write(snapshot, w.status(), new OperationWriter.Change(t.to().name(), t.reason(), t.message(), t.warning()),
                    w.recheckMillis());
        }
        return OperationWriter.after(step instanceof SnapshotPhases.Step.Wait w ? w.recheckMillis() : SnapshotPhases.RECHECK_MILLIS);
    }
    /** A reconcile that threw shows in status (condition ReconcileError) and as an Event; the SDK retries. */
    @Override
    public ErrorStatusUpdateControl<VMSnapshot> updateErrorStatus(VMSnapshot snapshot, Context<VMSnapshot> context, Exception e) {
        return writer.failed(snapshot, e);
    }

    private static VMSnapshotStatus conditionsOnly(List<io.fabric8.kubernetes.api.model.Condition> conditions) {
        VMSnapshotStatus status = new VMSnapshotStatus();
        status.setConditions(conditions);
        return status;
    }
}
