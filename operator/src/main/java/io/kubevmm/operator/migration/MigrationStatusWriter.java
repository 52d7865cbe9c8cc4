package io.kubevmm.operator.migration;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

import java.util.EnumSet;

/**
 * The one writer of a VMMigration's phase, conditions and summary fields. It leaves
 * {@code status.source} and {@code status.target} to the node runtimes (one JSON Patch
 * {@code add} per field it owns), and gives every phase change an Event and a metric. It also
 * hands the VMI over to the target; {@link MigrationPhases} stores Succeeded only after that.
 */
final class MigrationStatusWriter {
    private static final Logger LOG = Logger.getLogger(MigrationStatusWriter.class);
    private static final EnumSet<Phase> ENDED = EnumSet.of(Phase.Succeeded, Phase.Failed, Phase.Cancelled);

    private final KubernetesClient client;
    private final EventWriter events;
    private final MeterRegistry metrics;

    MigrationStatusWriter(KubernetesClient client, EventWriter events, MeterRegistry metrics) {
        this.client = client;
        this.events = events;
        this.metrics = metrics;
    }

    EventWriter events() {
        return events;
    }

    void write(VMMigration migration, MigrationPhases.Step.Write step) {
        StatusPatch.statusFields(client, migration, step.status(), migration.getStatus() != null);
        var t = step.transition();
        if (t == null) {
            return;
        }
        if (t.warning()) {
            events.warning(migration, t.reason(), t.message());
        } else {
            events.normal(migration, t.reason(), t.message());
        }
        metrics.counter("kubevmm.migration.phases", "phase", t.to().name()).increment();
        if (t.to() == Phase.Scheduling) {
            metrics.counter("kubevmm.migration.scheduled").increment();
        }
        if (ENDED.contains(t.to())) {
            metrics.counter("kubevmm.migration.outcomes", "outcome", t.to().name(), "reason", t.reason()).increment();
        }
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
