package io.kubevmm.operator.migration;

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
import io.kubevmm.api.v1alpha1.EvacuationStatus;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Empties a node whose {@code spec.evacuate} is true: every running or suspended VM gets a
 * VMMigration (the usual limits queue them), stopped ones are rescheduled elsewhere, and the
 * VMNode's {@code status.evacuation} shows how far it got. New VMs avoid the node meanwhile.
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
    private static final int ATTEMPTS = 3;
    private static final long RECHECK_MILLIS = 2000;

    private final KubernetesClient client;
    private final EventWriter events;

    EvacuationReconciler(KubernetesClient client,
                         @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance) {
        this.client = client;
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
        int rescheduled = previous == null || previous.getRescheduled() == null ? 0 : previous.getRescheduled();
        List<String> blocked = new ArrayList<>();
        for (VirtualMachineInstance vmi : placed) {
            String ns = vmi.getMetadata().getNamespace();
            String vm = vmi.getMetadata().getName();
            if (all.stream().anyMatch(m -> ns.equals(m.getMetadata().getNamespace()) && vm.equals(m.getSpec().getVmName()) && !ended(m))) {
                continue; // already on its way (or waiting for a slot)
            }
            switch (movability(vmi)) {
                case LIVE -> {
                    long attempts = ours.stream().filter(m -> ns.equals(m.getMetadata().getNamespace()) && vm.equals(m.getSpec().getVmName())).count();
                    if (attempts >= ATTEMPTS) {
                        blocked.add(ns + "/" + vm + ": " + ATTEMPTS + " migrations failed; see kubevmm get vmmig -l " + EVACUATION + "=" + name);
                    } else {
                        createMigration(ns, vm, name, evacuationId, attempts + 1);
                    }
                }
                case RESCHEDULE -> {
                    // Nothing runs: its instance is recreated on another node (this one takes no new VMs).
                    client.resource(vmi).delete();
                    rescheduled++;
                    events.normal(node, "Rescheduled", "VM " + ns + "/" + vm + " is not running; its instance moves to another node");
                }
                case BLOCKED -> blocked.add(ns + "/" + vm + ": suspended to disk; resume it (it will then migrate) or delete it");
            }
        }
        EvacuationStatus status = new EvacuationStatus();
        status.setRemaining(placed.size());
        status.setMigrated((int) ours.stream().filter(m -> phase(m) == Phase.Succeeded).count());
        status.setFailed((int) ours.stream().filter(m -> phase(m) == Phase.Failed).count());
        status.setRescheduled(rescheduled);
        status.setId(evacuationId);
        status.setStartTime(startTime);
        if (placed.isEmpty()) {
            status.setPhase(EvacuationStatus.Phase.Completed);
            status.setMessage("node " + name + " runs no VM");
            status.setCompletionTime(previous != null && previous.getCompletionTime() != null ? previous.getCompletionTime() : Instant.now().toString());
        } else if (!blocked.isEmpty()) {
            status.setPhase(EvacuationStatus.Phase.Blocked);
            status.setMessage(String.join("; ", blocked));
        } else {
            status.setPhase(EvacuationStatus.Phase.InProgress);
            status.setMessage(placed.size() + " VM(s) still on " + name);
        }
        publish(node, previous, status);
        return placed.isEmpty() ? UpdateControl.noUpdate() : UpdateControl.<VMNode>noUpdate().rescheduleAfter(RECHECK_MILLIS);
    }

    private enum Movability { LIVE, RESCHEDULE, BLOCKED }

    private static Movability movability(VirtualMachineInstance vmi) {
        var status = vmi.getStatus();
        InstancePhase phase = status == null ? null : status.getPhase();
        boolean onDisk = status != null && Conditions.find(status.getConditions(), "Paused")
                .filter(c -> "True".equals(c.getStatus()) && "SuspendedToDisk".equals(c.getReason())).isPresent();
        if (onDisk) {
            return Movability.BLOCKED;
        }
        return phase == InstancePhase.Running || phase == InstancePhase.Suspended || phase == InstancePhase.Migrating
                ? Movability.LIVE : Movability.RESCHEDULE;
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
            if (now.getPhase() == EvacuationStatus.Phase.Blocked) {
                events.warning(node, "EvacuationBlocked", now.getMessage());
            } else {
                events.normal(node, "Evacuation" + now.getPhase(), now.getMessage());
            }
        }
    }

    private static Phase phase(VMMigration m) {
        return m.getStatus() == null ? null : m.getStatus().getPhase();
    }

    private static boolean ended(VMMigration m) {
        Phase p = phase(m);
        return p == Phase.Succeeded || p == Phase.Failed || p == Phase.Cancelled;
    }
}
