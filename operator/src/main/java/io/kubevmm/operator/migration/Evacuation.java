package io.kubevmm.operator.migration;

import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.EvacuationStatus;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The phase machine of a node's evacuation, pure: from the VMs placed on the node, the
 * migrations of this evacuation and all others, and the previous {@code status.evacuation}, what
 * to do next (migrate a VM, reschedule a stopped one) and the status that results. A VM gets at
 * most {@value #ATTEMPTS} migrations per evacuation; one suspended to disk blocks it until resumed.
 * Completed means the node runs no VM and every migration of the evacuation has its outcome.
 */
public final class Evacuation {
    static final int ATTEMPTS = 3;

    private Evacuation() { }

    /** What the reconciler carries out. */
    public sealed interface Action {
        /** Create the {@code attempt}-th migration of this evacuation for the VM. */
        record Migrate(String namespace, String vm, long attempt) implements Action { }

        /** Nothing runs: delete the instance so the VM controller places it on another node. */
        record Reschedule(VirtualMachineInstance vmi) implements Action { }
    }

    /** The actions and the status once they are done. */
    public record Plan(List<Action> actions, EvacuationStatus status) { }

    /**
     * @param ours migrations this evacuation created (label kubevmm.io/evacuation-id)
     * @param all  every migration, to leave alone a VM already on its way
     */
    public static Plan next(String node, EvacuationStatus previous, String evacuationId, String startTime,
                            List<VirtualMachineInstance> placed, List<VMMigration> ours, List<VMMigration> all, Instant now) {
        int rescheduled = previous == null || previous.getRescheduled() == null ? 0 : previous.getRescheduled();
        List<Action> actions = new ArrayList<>();
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
                        blocked.add(ns + "/" + vm + ": " + ATTEMPTS + " migrations failed; see kubevmm get vmmig -l "
                                + EvacuationReconciler.EVACUATION + "=" + node);
                    } else {
                        actions.add(new Action.Migrate(ns, vm, attempts + 1));
                    }
                }
                case RESCHEDULE -> {
                    actions.add(new Action.Reschedule(vmi));
                    rescheduled++;
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
        long finishing = ours.stream().filter(m -> !ended(m)).count();
        if (placed.isEmpty() && finishing > 0) {
            // The VMIs move before their migrations store Succeeded: Completed waits for the outcomes, so its counts are final.
            status.setPhase(EvacuationStatus.Phase.InProgress);
            status.setMessage("node " + node + " runs no VM; " + finishing + " migration(s) finishing");
        } else if (placed.isEmpty()) {
            status.setPhase(EvacuationStatus.Phase.Completed);
            status.setMessage("node " + node + " runs no VM");
            status.setCompletionTime(previous != null && previous.getCompletionTime() != null ? previous.getCompletionTime() : now.toString());
        } else if (!blocked.isEmpty()) {
            status.setPhase(EvacuationStatus.Phase.Blocked);
            status.setMessage(String.join("; ", blocked));
        } else {
            status.setPhase(EvacuationStatus.Phase.InProgress);
            status.setMessage(placed.size() + " VM(s) still on " + node);
        }
        return new Plan(List.copyOf(actions), status);
    }

    private enum Movability { LIVE, RESCHEDULE, BLOCKED }

    private static Movability movability(VirtualMachineInstance vmi) {
        var status = vmi.getStatus();
        InstancePhase phase = status == null ? null : status.getPhase();
        boolean onDisk = status != null && Conditions.find(status.getConditions(), ConditionTypes.PAUSED)
                .filter(c -> "True".equals(c.getStatus()) && "SuspendedToDisk".equals(c.getReason())).isPresent();
        if (onDisk) {
            return Movability.BLOCKED;
        }
        return phase == InstancePhase.Running || phase == InstancePhase.Suspended || phase == InstancePhase.Migrating
                ? Movability.LIVE : Movability.RESCHEDULE;
    }

    private static Phase phase(VMMigration m) {
        return m.getStatus() == null ? null : m.getStatus().getPhase();
    }

    /** Whether the migration has its outcome. */
    static boolean ended(VMMigration m) {
        Phase p = phase(m);
        return p == Phase.Succeeded || p == Phase.Failed || p == Phase.Cancelled;
    }
}
