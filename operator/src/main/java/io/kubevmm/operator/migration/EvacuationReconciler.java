package io.kubevmm.operator.migration;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.EvacuationStatus;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Empties a node whose {@code spec.evacuate} is true: every running or suspended VM gets a
 * VMMigration (the usual limits queue them), stopped ones are rescheduled elsewhere, and the
 * VMNode's {@code status.evacuation} shows how far it got ({@link Evacuation#next} decides; this
 * class carries it out and is the one writer of that field). New VMs avoid the node meanwhile.
 */
@ControllerConfiguration(name = EvacuationReconciler.NAME)
public class EvacuationReconciler implements Reconciler<VMNode> {
    static final String NAME = "evacuation";
    /** On migrations an evacuation created: the node being emptied. */
    static final String EVACUATION = "kubevmm.io/evacuation";
    /**
     * Which evacuation of the node a migration belongs to (see {@link #evacuationId}): a node
     * evacuated again later counts, retries and names its migrations afresh instead of adding up
     * the earlier evacuations' (the third evacuation of a node otherwise saw its VM's three earlier
     * successful moves as three failed attempts and stopped).
     */
    static final String EVACUATION_ID = "kubevmm.io/evacuation-id";
    private static final long RECHECK_MILLIS = 2000;

    private final KubernetesClient client;
    private final EventWriter events;
    private final MeterRegistry metrics;

    EvacuationReconciler(KubernetesClient client, MeterRegistry metrics,
                         @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance) {
        this.client = client;
        this.metrics = metrics;
        this.events = new EventWriter(client, "kubevmm-operator", instance);
    }

    @Override
    public UpdateControl<VMNode> reconcile(VMNode node, Context<VMNode> context) {
        String name = node.getMetadata().getName();
        EvacuationStatus previous = node.getStatus() == null ? null : node.getStatus().getEvacuation();
        if (node.getSpec() == null || !Boolean.TRUE.equals(node.getSpec().getEvacuate())) {
            if (previous != null) {
                client.resources(VMNode.class).withName(name).subresource("status")
                        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"evacuation\":null}}");
            }
            return UpdateControl.noUpdate();
        }
        List<VirtualMachineInstance> placed = client.resources(VirtualMachineInstance.class).inAnyNamespace()
                .withLabel(Labels.NODE, name).list().getItems();
        String startTime = previous == null || previous.getStartTime() == null ? Instant.now().toString() : previous.getStartTime();
        String evacuationId = previous != null && previous.getId() != null ? previous.getId() : evacuationId(node, startTime);
        List<VMMigration> ours = client.resources(VMMigration.class).inAnyNamespace()
                .withLabels(Map.of(EVACUATION, name, EVACUATION_ID, evacuationId)).list().getItems();
        List<VMMigration> all = client.resources(VMMigration.class).inAnyNamespace().list().getItems();
        Evacuation.Plan plan = Evacuation.next(name, previous, evacuationId, startTime, placed, ours, all, Instant.now());
        for (Evacuation.Action action : plan.actions()) {
            switch (action) {
                case Evacuation.Action.Migrate m -> createMigration(m.namespace(), m.vm(), name, evacuationId, m.attempt());
                case Evacuation.Action.Reschedule r -> {
                    // Nothing runs: its instance is recreated on another node (this one takes no new VMs).
                    client.resource(r.vmi()).delete();
                    events.normal(node, "Rescheduled", "VM " + r.vmi().getMetadata().getNamespace() + "/" + r.vmi().getMetadata().getName()
                            + " is not running; its instance moves to another node");
                }
            }
        }
        EvacuationStatus status = plan.status();
        publish(node, previous, status);
        return status.getPhase() == EvacuationStatus.Phase.Completed ? UpdateControl.noUpdate()
                : UpdateControl.<VMNode>noUpdate().rescheduleAfter(RECHECK_MILLIS);
    }

    /**
     * The VMNode's generation when the evacuation began: a reconcile that reads the node before
     * its first status write (a stale cache) finds the same id, where a start time taken anew
     * would not (and counted that evacuation's migrations as another's).
     */
    private static String evacuationId(VMNode node, String startTime) {
        Long generation = node.getMetadata().getGeneration();
        return generation != null ? "g" + generation : Long.toString(Instant.parse(startTime).toEpochMilli());
    }

    private void createMigration(String namespace, String vm, String node, String evacuationId, long attempt) {
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName(vm);
        spec.setStrategy(VMMigrationSpec.Strategy.Auto);
        VMMigration migration = new VMMigration();
        migration.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName("evacuate-" + node + "-" + vm + "-" + evacuationId + "-" + attempt)
                .withLabels(Map.of(EVACUATION, node, EVACUATION_ID, evacuationId, Labels.VM, vm)).build());
        migration.setSpec(spec);
        client.resource(migration).create();
    }

    private void publish(VMNode node, EvacuationStatus previous, EvacuationStatus now) {
        if (previous != null && Objects.equals(previous.getPhase(), now.getPhase()) && Objects.equals(previous.getMessage(), now.getMessage())
                && Objects.equals(previous.getMigrated(), now.getMigrated()) && Objects.equals(previous.getFailed(), now.getFailed())
                && Objects.equals(previous.getRemaining(), now.getRemaining())) {
            return;
        }
        VMNodeStatus status = new VMNodeStatus();
        status.setEvacuation(now);
        StatusPatch.status(client, node, status);
        if (previous == null || previous.getPhase() != now.getPhase()) {
            metrics.counter("kubevmm.evacuation.phases", "phase", now.getPhase().name()).increment();
            if (now.getPhase() == EvacuationStatus.Phase.Blocked) {
                events.warning(node, "EvacuationBlocked", now.getMessage());
            } else {
                events.normal(node, "Evacuation" + now.getPhase(), now.getMessage());
            }
        }
    }
}
