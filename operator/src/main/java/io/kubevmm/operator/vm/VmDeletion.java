package io.kubevmm.operator.vm;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineStatus;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What deleting a VM waits for, made visible: its migrations still under way are cancelled (a
 * VM that is leaving cannot be deleted under the transfer), and condition {@code Deleting} on the
 * VM says what is awaited now (a migration to end, a node to stop QEMU).
 */
final class VmDeletion {
    private static final Set<Phase> ENDED = EnumSet.of(Phase.Succeeded, Phase.Failed, Phase.Cancelled);

    private final KubernetesClient client;
    private final EventWriter events;

    VmDeletion(KubernetesClient client, EventWriter events) {
        this.client = client;
        this.events = events;
    }

    /** Cancels the VM's unfinished migrations; returns their names. */
    List<String> cancelMigrations(VirtualMachine vm) {
        List<String> waiting = new ArrayList<>();
        for (VMMigration m : client.resources(VMMigration.class).inNamespace(vm.getMetadata().getNamespace()).list().getItems()) {
            if (!vm.getMetadata().getName().equals(m.getSpec().getVmName())
                    || (m.getStatus() != null && ENDED.contains(m.getStatus().getPhase()))) {
                continue;
            }
            waiting.add(m.getMetadata().getName());
            if (!Boolean.TRUE.equals(m.getSpec().getCancel())) {
                try {
                    client.resources(VMMigration.class).inNamespace(m.getMetadata().getNamespace()).withName(m.getMetadata().getName())
                            .edit(current -> {
                                current.getSpec().setCancel(true);
                                return current;
                            });
                    events.normal(vm, "CancellingMigration", "VM deleted: cancelling migration " + m.getMetadata().getName());
                } catch (KubernetesClientException e) {
                    // Retried at the next cleanup pass.
                }
            }
        }
        return waiting;
    }

    /** Sets condition Deleting to what the deletion waits for now (written only when it changes). */
    void report(VirtualMachine vm, List<String> migrations, VirtualMachineInstance vmi) {
        String node = vmi == null || vmi.getSpec() == null ? null : vmi.getSpec().getNodeName();
        String message = !migrations.isEmpty()
                ? "deleting: waiting for migration " + String.join(", ", migrations) + " to be cancelled"
                : "deleting: waiting for " + (node == null ? "the node" : node) + " to stop QEMU and remove the VM's state";
        String reason = migrations.isEmpty() ? "WaitingForNode" : "WaitingForMigration";
        List<Condition> previous = vm.getStatus() == null ? null : vm.getStatus().getConditions();
        var current = Conditions.find(previous, ConditionTypes.DELETING);
        if (current.isPresent() && Objects.equals(current.get().getMessage(), message)) {
            return;
        }
        long generation = vm.getMetadata().getGeneration() == null ? 0 : vm.getMetadata().getGeneration();
        List<Condition> conditions = new ArrayList<>();
        if (previous != null) {
            previous.stream().filter(c -> !ConditionTypes.DELETING.equals(c.getType())).forEach(conditions::add);
        }
        conditions.addAll(new Conditions(previous, generation).set(ConditionTypes.DELETING, true, reason, message).build());
        VirtualMachineStatus status = new VirtualMachineStatus();
        status.setConditions(conditions);
        try {
            StatusPatch.status(client, vm, status);
            events.normal(vm, "Deleting", message);
        } catch (KubernetesClientException e) {
            // The VM may be gone already; nothing left to report.
        }
    }
}
