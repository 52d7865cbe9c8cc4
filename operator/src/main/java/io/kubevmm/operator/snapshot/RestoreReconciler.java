package io.kubevmm.operator.snapshot;

import io.kubevmm.api.status.ConditionTypes;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.status.EventWriter;
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
import io.kubevmm.operator.operation.OperationWriter;
import io.kubevmm.api.validation.SpecValidator;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.util.Set;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A VMRestore: the snapshot's own VM is rolled back (its instance replaced by one started from
 * the snapshot), any other name becomes a new VM cloned from it (new uid, so a new MAC and
 * vmgenid). Both go through annotations on the VM that the VM controller acts on; the chosen node
 * (the snapshot's unless {@code targetNode} names another, which then fetches the artifacts over
 * the authenticated node API) starts the guest from it. Succeeded once that guest runs again
 * ({@link RestorePhases#next} on the instance's facts). This reconciler is the only writer of its status.
 */
@ControllerConfiguration(name = RestoreReconciler.NAME, generationAwareEventProcessing = false)
public class RestoreReconciler implements Reconciler<VMRestore> {
    static final String NAME = "vmrestore";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final OperationWriter<VMRestore, VMRestoreStatus> writer;
    private final MeterRegistry metrics;
    private final Duration timeout;

    RestoreReconciler(KubernetesClient client, MeterRegistry metrics,
                      @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance,
                      @ConfigProperty(name = "kubevmm.operator.restore.timeout", defaultValue = "10m") Duration timeout) {
        this.client = client;
        this.writer = new OperationWriter<>(client, new EventWriter(client, "kubevmm-operator", instance), metrics, "kubevmm.restore",
                Set.of(Phase.Succeeded.name(), Phase.Failed.name()), VMRestore::getStatus, VMRestoreStatus::getConditions, RestoreReconciler::conditionsOnly);
        this.metrics = metrics;
        this.timeout = timeout;
    }

    @Override
    public UpdateControl<VMRestore> reconcile(VMRestore restore, Context<VMRestore> context) {
        restore = writer.begin(restore);
        RestorePhases.Facts facts = facts(restore);
        var step = RestorePhases.next(restore.getSpec(), restore.getStatus(), facts);
        return step instanceof RestorePhases.Step.Start ? start(restore, facts) : apply(restore, step);
    }

    /** The facts of the instance started for this restore (the node writes its status), if there is one. */
    private RestorePhases.Facts facts(VMRestore restore) {
        String namespace = restore.getMetadata().getNamespace();
        InstancePhase phase = null;
        String failure = null;
        if (restore.getStatus() != null && restore.getStatus().getPhase() == Phase.InProgress) {
            VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace(namespace)
                    .withName(restore.getSpec().getTargetVmName()).get();
            boolean ours = vmi != null && vmi.getMetadata().getAnnotations() != null
                    && restore.getMetadata().getUid().equals(vmi.getMetadata().getAnnotations().get(Labels.RESTORE_ID));
            phase = ours && vmi.getStatus() != null ? vmi.getStatus().getPhase() : null;
            if (phase == InstancePhase.Failed) {
                failure = Conditions.find(vmi.getStatus().getConditions(), ConditionTypes.FAILURE).map(c -> c.getMessage()).orElse(null);
            }
        }
        long generation = restore.getMetadata().getGeneration() == null ? 0 : restore.getMetadata().getGeneration();
        return new RestorePhases.Facts(Instant.now(), timeout,
                ZonedDateTime.parse(restore.getMetadata().getCreationTimestamp()).toInstant(), phase, failure, generation);
    }

    private UpdateControl<VMRestore> apply(VMRestore restore, RestorePhases.Step step) {
        if (!(step instanceof RestorePhases.Step.Write w)) {
            return OperationWriter.after(step instanceof RestorePhases.Step.Wait w ? w.recheckMillis() : RestorePhases.RECHECK_MILLIS);
        }
        if (w.release()) {
            clearAnnotations(restore.getMetadata().getNamespace(), restore.getSpec().getTargetVmName());
        }
        var t = w.transition();
        return writer.write(restore, w.status(), new OperationWriter.Change(t.to().name(), t.reason(), t.message(), t.warning()),
                w.recheckMillis());
    }
    private UpdateControl<VMRestore> fail(VMRestore restore, RestorePhases.Facts facts, String reason, String message) {
        return apply(restore, RestorePhases.failed(restore.getStatus(), facts, reason, message, false));
    }

    private UpdateControl<VMRestore> start(VMRestore restore, RestorePhases.Facts facts) {
        var errors = SpecValidator.validate(restore.getSpec());
        if (!errors.isEmpty()) {
            return fail(restore, facts, "InvalidSpec", errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
        }
        String namespace = restore.getMetadata().getNamespace();
        String snapshotName = restore.getSpec().getSnapshotName();
        VMSnapshot snapshot = client.resources(VMSnapshot.class).inNamespace(namespace).withName(snapshotName).get();
        if (snapshot == null) {
            return fail(restore, facts, "SnapshotNotFound", "spec.snapshotName: there is no VMSnapshot " + snapshotName + " in namespace " + namespace);
        }
        VMSnapshotStatus.Phase snapPhase = snapshot.getStatus() == null ? null : snapshot.getStatus().getPhase();
        if (snapPhase == VMSnapshotStatus.Phase.Failed) {
            return fail(restore, facts, "SnapshotFailed", "spec.snapshotName: VMSnapshot " + snapshotName + " failed ("
                    + snapshot.getStatus().getError() + "); restore another snapshot");
        }
        if (snapPhase != VMSnapshotStatus.Phase.Ready) {
            return UpdateControl.<VMRestore>noUpdate().rescheduleAfter(2000); // waits until the snapshot is ready
        }
        // The snapshot's own node by default; another node fetches the artifacts from it first.
        String node = restore.getSpec().getTargetNode() != null ? restore.getSpec().getTargetNode() : snapshot.getStatus().getNodeName();
        if (client.resources(VMNode.class).withName(node).get() == null) {
            return fail(restore, facts, "InvalidTarget", "spec.targetNode: there is no VMNode named " + node);
        }
        String sourceVm = snapshot.getSpec().getVmName();
        String target = restore.getSpec().getTargetVmName();
        Map<String, String> annotations = Map.of(Labels.RESTORE_FROM, snapshotName, Labels.RESTORE_ID, restore.getMetadata().getUid(),
                Labels.RESTORE_NODE, node);
        VirtualMachine existing = client.resources(VirtualMachine.class).inNamespace(namespace).withName(target).get();
        boolean rollback = target.equals(sourceVm);
        if (rollback) {
            if (existing == null) {
                return fail(restore, facts, "VMNotFound", "spec.targetVmName: VirtualMachine " + target
                        + " no longer exists; restore into a new name to get it back as a clone");
            }
            annotate(existing, annotations);
            // Annotations do not change a VM's generation, so its controller hears of the rollback
            // through its instance going away (it then starts the one from the snapshot).
            client.resources(VirtualMachineInstance.class).inNamespace(namespace).withName(target).delete();
        } else {
            if (existing != null) {
                return fail(restore, facts, "VMExists", "spec.targetVmName: VirtualMachine " + target
                        + " already exists; name a new VM for a clone, or " + sourceVm + " to roll it back");
            }
            VirtualMachineSpec spec = recordedSpec(snapshot);
            if (spec == null) {
                VirtualMachine source = client.resources(VirtualMachine.class).inNamespace(namespace).withName(sourceVm).get();
                if (source == null) {
                    return fail(restore, facts, "SourceVMNotFound", "spec.snapshotName: the snapshot's VM " + sourceVm
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
        return apply(restore, RestorePhases.started(restore.getStatus(), facts, node, (rollback ? "rolling VM " + target + " back to "
                : "cloning into new VM " + target + " from ") + "VMSnapshot " + snapshotName + " on " + node));
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

    /** A reconcile that threw shows in status (condition ReconcileError) and as an Event; the SDK retries. */
    @Override
    public ErrorStatusUpdateControl<VMRestore> updateErrorStatus(VMRestore restore, Context<VMRestore> context, Exception e) {
        return writer.failed(restore, e);
    }

    private static VMRestoreStatus conditionsOnly(java.util.List<io.fabric8.kubernetes.api.model.Condition> conditions) {
        VMRestoreStatus status = new VMRestoreStatus();
        status.setConditions(conditions);
        return status;
    }
}
