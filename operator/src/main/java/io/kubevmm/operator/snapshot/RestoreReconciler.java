package io.kubevmm.operator.snapshot;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMRestore;
import io.kubevmm.api.v1alpha1.VMRestoreStatus;
import io.kubevmm.api.v1alpha1.VMRestoreStatus.Phase;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VmState;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.api.validation.SpecValidator;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A VMRestore: the snapshot's own VM is rolled back (its instance replaced by one started from
 * the snapshot), any other name becomes a new VM cloned from it (new uid, so a new MAC and
 * vmgenid). Both go through annotations on the VM that the VM controller acts on; the chosen node
 * (the snapshot's unless {@code targetNode} names another, which then fetches the artifacts over
 * the authenticated node API) starts the guest from it. Succeeded once that guest runs again.
 */
@ControllerConfiguration(name = RestoreReconciler.NAME, generationAwareEventProcessing = false)
public class RestoreReconciler implements Reconciler<VMRestore> {
    static final String NAME = "vmrestore";
    private static final long RECHECK_MILLIS = 500;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final EventWriter events;
    private final MeterRegistry metrics;
    private final Duration timeout;

    RestoreReconciler(KubernetesClient client, MeterRegistry metrics,
                      @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance,
                      @ConfigProperty(name = "kubevmm.operator.restore.timeout", defaultValue = "10m") Duration timeout) {
        this.client = client;
        this.events = new EventWriter(client, "kubevmm-operator", instance);
        this.metrics = metrics;
        this.timeout = timeout;
    }

    @Override
    public UpdateControl<VMRestore> reconcile(VMRestore restore, Context<VMRestore> context) {
        Phase phase = restore.getStatus() == null || restore.getStatus().getPhase() == null ? Phase.Pending : restore.getStatus().getPhase();
        return switch (phase) {
            case Pending -> start(restore);
            case InProgress -> watch(restore);
            case Succeeded, Failed -> UpdateControl.noUpdate();
        };
    }

    private UpdateControl<VMRestore> start(VMRestore restore) {
        var errors = SpecValidator.validate(restore.getSpec());
        if (!errors.isEmpty()) {
            return fail(restore, "InvalidSpec", errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
        }
        String namespace = restore.getMetadata().getNamespace();
        String snapshotName = restore.getSpec().getSnapshotName();
        VMSnapshot snapshot = client.resources(VMSnapshot.class).inNamespace(namespace).withName(snapshotName).get();
        if (snapshot == null) {
            return fail(restore, "SnapshotNotFound", "spec.snapshotName: there is no VMSnapshot " + snapshotName + " in namespace " + namespace);
        }
        VMSnapshotStatus.Phase snapPhase = snapshot.getStatus() == null ? null : snapshot.getStatus().getPhase();
        if (snapPhase == VMSnapshotStatus.Phase.Failed) {
            return fail(restore, "SnapshotFailed", "spec.snapshotName: VMSnapshot " + snapshotName + " failed ("
                    + snapshot.getStatus().getError() + "); restore another snapshot");
        }
        if (snapPhase != VMSnapshotStatus.Phase.Ready) {
            return UpdateControl.<VMRestore>noUpdate().rescheduleAfter(2000); // waits until the snapshot is ready
        }
        // The snapshot's own node by default; another node fetches the artifacts from it first.
        String node = restore.getSpec().getTargetNode() != null ? restore.getSpec().getTargetNode() : snapshot.getStatus().getNodeName();
        if (client.resources(VMNode.class).withName(node).get() == null) {
            return fail(restore, "InvalidTarget", "spec.targetNode: there is no VMNode named " + node);
        }
        String sourceVm = snapshot.getSpec().getVmName();
        String target = restore.getSpec().getTargetVmName();
        Map<String, String> annotations = Map.of(Labels.RESTORE_FROM, snapshotName, Labels.RESTORE_ID, restore.getMetadata().getUid(),
                Labels.RESTORE_NODE, node);
        VirtualMachine existing = client.resources(VirtualMachine.class).inNamespace(namespace).withName(target).get();
        boolean rollback = target.equals(sourceVm);
        if (rollback) {
            if (existing == null) {
                return fail(restore, "VMNotFound", "spec.targetVmName: VirtualMachine " + target
                        + " no longer exists; restore into a new name to get it back as a clone");
            }
            annotate(existing, annotations);
            // Annotations do not change a VM's generation, so its controller hears of the rollback
            // through its instance going away (it then starts the one from the snapshot).
            client.resources(VirtualMachineInstance.class).inNamespace(namespace).withName(target).delete();
        } else {
            if (existing != null) {
                return fail(restore, "VMExists", "spec.targetVmName: VirtualMachine " + target
                        + " already exists; name a new VM for a clone, or " + sourceVm + " to roll it back");
            }
            VirtualMachineSpec spec = recordedSpec(snapshot);
            if (spec == null) {
                VirtualMachine source = client.resources(VirtualMachine.class).inNamespace(namespace).withName(sourceVm).get();
                if (source == null) {
                    return fail(restore, "SourceVMNotFound", "spec.snapshotName: the snapshot's VM " + sourceVm
                            + " was deleted and the VMSnapshot records no spec (annotation " + SnapshotReconciler.VM_SPEC + ")");
                }
                spec = JSON.convertValue(source.getSpec(), VirtualMachineSpec.class);
            }
            VirtualMachine clone = new VirtualMachine();
            clone.setMetadata(new ObjectMetaBuilder().withName(target).withNamespace(namespace).withAnnotations(annotations)
                    .withLabels(Map.of("kubevmm.io/cloned-from", sourceVm)).build());
            spec.setState(VmState.Running);
            clone.setSpec(spec);
            client.resource(clone).create();
        }
        VMRestoreStatus status = new VMRestoreStatus();
        status.setPhase(Phase.InProgress);
        status.setTargetNode(node);
        status.setConditions(conditions(restore).set("Complete", false, "InProgress", (rollback ? "rolling VM " + target + " back to "
                : "cloning into new VM " + target + " from ") + "VMSnapshot " + snapshotName + " on " + node).build());
        StatusPatch.status(client, restore, status);
        events.normal(restore, "Started", (rollback ? "rolling VM " + target + " back to VMSnapshot "
                : "cloning VMSnapshot into new VM " + target + " from VMSnapshot ") + snapshotName + " on " + node);
        return UpdateControl.<VMRestore>noUpdate().rescheduleAfter(RECHECK_MILLIS);
    }

    private UpdateControl<VMRestore> watch(VMRestore restore) {
        String namespace = restore.getMetadata().getNamespace();
        String target = restore.getSpec().getTargetVmName();
        VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace(namespace).withName(target).get();
        boolean ours = vmi != null && vmi.getMetadata().getAnnotations() != null
                && restore.getMetadata().getUid().equals(vmi.getMetadata().getAnnotations().get(Labels.RESTORE_ID));
        InstancePhase phase = ours && vmi.getStatus() != null ? vmi.getStatus().getPhase() : null;
        if (phase == InstancePhase.Running || phase == InstancePhase.Suspended) {
            long millis = Duration.between(ZonedDateTime.parse(restore.getMetadata().getCreationTimestamp()).toInstant(), Instant.now()).toMillis();
            clearAnnotations(namespace, target);
            VMRestoreStatus status = new VMRestoreStatus();
            status.setPhase(Phase.Succeeded);
            status.setDurationMillis(millis);
            status.setCompletionTime(Instant.now().toString());
            status.setConditions(conditions(restore).set("Complete", true, "Succeeded", "VM " + target + " runs from VMSnapshot "
                    + restore.getSpec().getSnapshotName()).build());
            StatusPatch.status(client, restore, status);
            events.normal(restore, "Succeeded", "VM " + target + " runs again from VMSnapshot " + restore.getSpec().getSnapshotName()
                    + " (" + millis + " ms after the request)");
            metrics.counter("kubevmm.restore.outcomes", "outcome", "Succeeded", "reason", "Succeeded").increment();
            return UpdateControl.noUpdate();
        }
        if (phase == InstancePhase.Failed) {
            String why = vmi.getStatus().getConditions() == null ? "the instance failed" : Conditions.find(vmi.getStatus().getConditions(), "Failure")
                    .map(c -> c.getMessage()).orElse("the instance failed");
            clearAnnotations(namespace, target);
            return fail(restore, "RestoreFailed", why);
        }
        if (Duration.between(ZonedDateTime.parse(restore.getMetadata().getCreationTimestamp()).toInstant(), Instant.now()).compareTo(timeout) > 0) {
            clearAnnotations(namespace, target);
            return fail(restore, "Timeout", "VM " + target + " did not run from the snapshot within " + timeout.toMinutes() + " min");
        }
        return UpdateControl.<VMRestore>noUpdate().rescheduleAfter(RECHECK_MILLIS);
    }

    /** The VM's spec as the snapshot recorded it, or null (snapshots made before it was recorded). */
    private static VirtualMachineSpec recordedSpec(VMSnapshot snapshot) {
        var annotations = snapshot.getMetadata().getAnnotations();
        String json = annotations == null ? null : annotations.get(SnapshotReconciler.VM_SPEC);
        try {
            return json == null ? null : JSON.readValue(json, VirtualMachineSpec.class);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private void annotate(VirtualMachine vm, Map<String, String> annotations) {
        client.resources(VirtualMachine.class).inNamespace(vm.getMetadata().getNamespace()).withName(vm.getMetadata().getName())
                .patch(PatchContext.of(PatchType.JSON_MERGE), JSON.createObjectNode().set("metadata",
                        JSON.createObjectNode().set("annotations", JSON.valueToTree(annotations))).toString());
    }

    /** The VM goes back to ordinary life: its next fresh instance boots. */
    private void clearAnnotations(String namespace, String vm) {
        var nulls = JSON.createObjectNode();
        for (String key : new String[] {Labels.RESTORE_FROM, Labels.RESTORE_ID, Labels.RESTORE_NODE}) {
            nulls.putNull(key);
        }
        var resource = client.resources(VirtualMachine.class).inNamespace(namespace).withName(vm);
        if (resource.get() != null) {
            resource.patch(PatchContext.of(PatchType.JSON_MERGE), JSON.createObjectNode().set("metadata",
                    JSON.createObjectNode().set("annotations", nulls)).toString());
        }
    }

    private UpdateControl<VMRestore> fail(VMRestore restore, String reason, String message) {
        VMRestoreStatus status = new VMRestoreStatus();
        status.setPhase(Phase.Failed);
        status.setError(reason + ": " + message);
        status.setCompletionTime(Instant.now().toString());
        status.setConditions(conditions(restore).set("Complete", false, reason, message).build());
        StatusPatch.status(client, restore, status);
        events.warning(restore, reason, message);
        metrics.counter("kubevmm.restore.outcomes", "outcome", "Failed", "reason", reason).increment();
        return UpdateControl.noUpdate();
    }

    private static Conditions conditions(VMRestore restore) {
        long generation = restore.getMetadata().getGeneration() == null ? 0 : restore.getMetadata().getGeneration();
        return new Conditions(restore.getStatus() == null ? null : restore.getStatus().getConditions(), generation);
    }
}
