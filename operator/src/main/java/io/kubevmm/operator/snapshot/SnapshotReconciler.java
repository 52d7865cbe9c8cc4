package io.kubevmm.operator.snapshot;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.status.Conditions;
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
import io.kubevmm.api.validation.SpecValidator;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The operator's part of a VMSnapshot: validate it, wait while the VM migrates or is being
 * snapshotted, and hand it to the node that runs the VM (label {@code kubevmm.io/node}). That
 * node runtime takes the snapshot and writes InProgress, Ready or Failed; if it never starts,
 * the snapshot fails here after a timeout.
 */
@ControllerConfiguration(name = SnapshotReconciler.NAME, generationAwareEventProcessing = false)
public class SnapshotReconciler implements Reconciler<VMSnapshot> {
    static final String NAME = "vmsnapshot";
    /** Annotation on a VMSnapshot: the VM's spec (JSON) when the snapshot was handed over. */
    public static final String VM_SPEC = "kubevmm.io/vm-spec";
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private static final long RECHECK_MILLIS = 5000;

    private final KubernetesClient client;
    private final EventWriter events;
    private final MeterRegistry metrics;
    private final Duration nodeStartTimeout;

    SnapshotReconciler(KubernetesClient client, MeterRegistry metrics,
                       @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance,
                       @ConfigProperty(name = "kubevmm.operator.snapshot.node-start-timeout", defaultValue = "120s") Duration nodeStartTimeout) {
        this.client = client;
        this.events = new EventWriter(client, "kubevmm-operator", instance);
        this.metrics = metrics;
        this.nodeStartTimeout = nodeStartTimeout;
    }

    @Override
    public UpdateControl<VMSnapshot> reconcile(VMSnapshot snapshot, Context<VMSnapshot> context) {
        VMSnapshotStatus status = snapshot.getStatus();
        Phase phase = status == null || status.getPhase() == null ? Phase.Pending : status.getPhase();
        if (phase != Phase.Pending) {
            return UpdateControl.noUpdate(); // the node runtime owns InProgress, Ready and Failed
        }
        if (status != null && status.getNodeName() != null) {
            return handedOver(snapshot);
        }
        List<FieldError> errors = SpecValidator.validate(snapshot.getSpec());
        if (!errors.isEmpty()) {
            return fail(snapshot, "InvalidSpec", errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
        }
        String namespace = snapshot.getMetadata().getNamespace();
        String vmName = snapshot.getSpec().getVmName();
        VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace(namespace).withName(vmName).get();
        var decision = SnapshotAdmission.decide(snapshot, vm,
                client.resources(VirtualMachineInstance.class).inNamespace(namespace).withName(vmName).get(),
                client.resources(VMMigration.class).inNamespace(namespace).list().getItems(),
                client.resources(VMSnapshot.class).inNamespace(namespace).list().getItems());
        return switch (decision) {
            case SnapshotAdmission.Decision.Reject r -> fail(snapshot, r.reason(), r.message());
            case SnapshotAdmission.Decision.Wait w -> waitFor(snapshot, w);
            case SnapshotAdmission.Decision.Admit a -> handOver(snapshot, vm, a.node());
        };
    }

    private UpdateControl<VMSnapshot> waitFor(VMSnapshot snapshot, SnapshotAdmission.Decision.Wait wait) {
        var previous = snapshot.getStatus() == null ? null : Conditions.find(snapshot.getStatus().getConditions(), "Scheduled");
        if (previous == null || previous.isEmpty() || !wait.message().equals(previous.get().getMessage())) {
            VMSnapshotStatus status = new VMSnapshotStatus();
            status.setPhase(Phase.Pending);
            status.setReadyToUse(false);
            status.setConditions(conditions(snapshot).set("Scheduled", false, wait.reason(), wait.message()).build());
            StatusPatch.status(client, snapshot, status);
            events.normal(snapshot, wait.reason(), wait.message());
        }
        return UpdateControl.<VMSnapshot>noUpdate().rescheduleAfter(RECHECK_MILLIS);
    }

    private UpdateControl<VMSnapshot> handOver(VMSnapshot snapshot, VirtualMachine vm, String node) {
        // The VM's spec at this instant, so a clone can be defined even after the VM is deleted.
        var annotations = JSON.createObjectNode().put(VM_SPEC, JSON.valueToTree(vm.getSpec()).toString());
        client.resources(VMSnapshot.class).inNamespace(snapshot.getMetadata().getNamespace()).withName(snapshot.getMetadata().getName())
                .patch(PatchContext.of(PatchType.JSON_MERGE), JSON.createObjectNode().set("metadata",
                        JSON.createObjectNode().set("annotations", annotations)).toString());
        // The label first: it is what the node runtime selects on.
        StatusPatch.labels(client, snapshot, Map.of(Labels.NODE, node, Labels.VM, snapshot.getSpec().getVmName()));
        VMSnapshotStatus status = new VMSnapshotStatus();
        status.setPhase(Phase.Pending);
        status.setReadyToUse(false);
        status.setNodeName(node);
        status.setConditions(conditions(snapshot).set("Scheduled", true, "Scheduled",
                "node " + node + " takes the snapshot").build());
        StatusPatch.status(client, snapshot, status);
        events.normal(snapshot, "Scheduled", "node " + node + " takes the " + typeOf(snapshot) + " snapshot of VM "
                + snapshot.getSpec().getVmName());
        metrics.counter("kubevmm.snapshot.scheduled", "type", typeOf(snapshot)).increment();
        return UpdateControl.<VMSnapshot>noUpdate().rescheduleAfter(RECHECK_MILLIS);
    }

    /** Labelled for a node that has not started yet: fail it when that node never does. */
    private UpdateControl<VMSnapshot> handedOver(VMSnapshot snapshot) {
        boolean late = Conditions.find(snapshot.getStatus().getConditions(), "Scheduled")
                .map(c -> ZonedDateTime.parse(c.getLastTransitionTime()).toInstant())
                .map(since -> since.plus(nodeStartTimeout).isBefore(Instant.now()))
                .orElse(false);
        if (late) {
            return fail(snapshot, "NodeNotResponding", "node " + snapshot.getStatus().getNodeName()
                    + " did not start the snapshot within " + nodeStartTimeout.toSeconds() + "s; delete this VMSnapshot and create it again");
        }
        return UpdateControl.<VMSnapshot>noUpdate().rescheduleAfter(RECHECK_MILLIS);
    }

    private UpdateControl<VMSnapshot> fail(VMSnapshot snapshot, String reason, String message) {
        VMSnapshotStatus status = new VMSnapshotStatus();
        status.setPhase(Phase.Failed);
        status.setReadyToUse(false);
        status.setError(reason + ": " + message);
        status.setConditions(conditions(snapshot).set("Ready", false, reason, message).build());
        StatusPatch.status(client, snapshot, status);
        events.warning(snapshot, reason, message);
        metrics.counter("kubevmm.snapshot.outcomes", "outcome", Phase.Failed.name(), "reason", reason).increment();
        return UpdateControl.noUpdate();
    }

    private static String typeOf(VMSnapshot snapshot) {
        return snapshot.getSpec().getType() == null ? "FullState" : snapshot.getSpec().getType().name();
    }

    private static Conditions conditions(VMSnapshot snapshot) {
        long generation = snapshot.getMetadata().getGeneration() == null ? 0 : snapshot.getMetadata().getGeneration();
        return new Conditions(snapshot.getStatus() == null ? null : snapshot.getStatus().getConditions(), generation);
    }
}
