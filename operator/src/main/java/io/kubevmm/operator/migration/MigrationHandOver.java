package io.kubevmm.operator.migration;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import org.jboss.logging.Logger;


/**
 * What the operator does to other objects for a VMMigration: the labels the two node runtimes
 * select on, and at the end the hand-over of the VMI to the target. {@link MigrationPhases} says
 * when; the migration's status is written through the shared {@code OperationWriter}.
 */
final class MigrationHandOver {
    private static final Logger LOG = Logger.getLogger(MigrationHandOver.class);

    private final KubernetesClient client;

    MigrationHandOver(KubernetesClient client) {
        this.client = client;
    }

    /**
     * Points the VMI at the target (its node label and {@code spec.nodeName}). The target node
     * runtime already runs the guest that arrived; the source keeps its paused copy (and the VM's
     * state dir) until it sees the VMI name the target, and only then lets go of it.
     */
    void handOver(VMMigration migration, String target) {
        String namespace = migration.getMetadata().getNamespace();
        String vm = migration.getSpec().getVmName();
        VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace(namespace).withName(vm).get();
        if (vmi == null) {
            LOG.warnf("migration %s/%s completed but VMI %s is gone: nothing to hand over", namespace,
                    migration.getMetadata().getName(), vm);
            return;
        }
        if (target.equals(vmi.getSpec().getNodeName()) && vmi.getMetadata().getLabels() != null
                && target.equals(vmi.getMetadata().getLabels().get(Labels.NODE))) {
            return;
        }
        String patch = "{\"metadata\":{\"labels\":{\"" + Labels.NODE + "\":\"" + target + "\"}},\"spec\":{\"nodeName\":\"" + target + "\"}}";
        io.kubevmm.api.status.ApiRetry.write("node of VMI " + namespace + "/" + vm, () -> client.resources(VirtualMachineInstance.class)
                .inNamespace(namespace).withName(vm).patch(PatchContext.of(PatchType.JSON_MERGE), patch));
        LOG.infof("migration %s/%s: VMI %s handed over to node %s", namespace, migration.getMetadata().getName(), vm, target);
    }

    /** Puts the labels the two node runtimes select on. */
    void label(VMMigration migration, String sourceNode, String targetNode) {
        StatusPatch.labels(client, migration, java.util.Map.of(Labels.SOURCE_NODE, sourceNode,
                Labels.TARGET_NODE, targetNode, Labels.VM, migration.getSpec().getVmName()));
    }
}
