package io.kubevmm.operator.migration;

import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.operator.scheduling.NodeCandidate;
import io.kubevmm.operator.scheduling.Scheduler;

import java.util.List;
import java.util.Objects;

/**
 * Whether a pending migration may start now, and where to: the VM must be running or suspended
 * to memory, a named target must exist, differ from the source and fit, and the cluster-wide and
 * per-node limits must leave a slot; a snapshot being taken of the VM finishes first. Pure.
 */
final class MigrationAdmission {

    /** Settings: how many migrations may run at once in the cluster and out of one node. */
    record Limits(int maxParallel, int maxOutboundPerNode) { }

    sealed interface Decision {
        /** The request can never succeed as written; the message names the field and the fix. */
        record Reject(String reason, String message) implements Decision { }

        /** Not now: no slot or no node fits; tried again later. */
        record Wait(String reason, String message) implements Decision { }

        record Admit(String sourceNode, String targetNode) implements Decision { }
    }

    /** Migrations that hold a slot: scheduled and not yet finished. */
    static boolean active(VMMigration m) {
        var phase = m.getStatus() == null ? null : m.getStatus().getPhase();
        return phase != null && switch (phase) {
            case Scheduling, TargetReady, Running, PostCopy -> true;
            case Pending, Succeeded, Failed, Cancelled -> false;
        };
    }

    static Decision decide(VMMigration migration, VirtualMachineInstance vmi, Scheduler scheduler, Scheduler.Request request,
                           List<NodeCandidate> nodes, List<VMMigration> others, List<VMSnapshot> snapshots, Limits limits) {
        String vmName = migration.getSpec().getVmName();
        if (vmi == null || vmi.getSpec() == null || vmi.getSpec().getNodeName() == null) {
            return new Decision.Reject("VMNotRunning", "spec.vmName: VirtualMachine " + vmName
                    + " has no instance on any node; start it (spec.state: Running) before migrating");
        }
        String source = vmi.getSpec().getNodeName();
        var status = vmi.getStatus();
        InstancePhase phase = status == null ? null : status.getPhase();
        boolean onDisk = status != null && Conditions.find(status.getConditions(), ConditionTypes.PAUSED)
                .filter(c -> "SuspendedToDisk".equals(c.getReason()) && "True".equals(c.getStatus())).isPresent();
        if (phase != InstancePhase.Running && (phase != InstancePhase.Suspended || onDisk)) {
            return new Decision.Reject("VMNotRunning", "spec.vmName: VirtualMachine " + vmName + " is "
                    + (onDisk ? "suspended to disk" : phase == null ? "not started yet" : phase)
                    + "; only a Running VM or one suspended to memory can be live-migrated");
        }
        for (VMMigration other : others) {
            if (active(other) && vmName.equals(other.getSpec().getVmName())
                    && !Objects.equals(other.getMetadata().getUid(), migration.getMetadata().getUid())) {
                return new Decision.Reject("AlreadyMigrating", "spec.vmName: VirtualMachine " + vmName
                        + " is already being migrated by VMMigration " + other.getMetadata().getName() + "; wait for it or cancel it");
            }
        }
        for (VMSnapshot snapshot : snapshots) {
            if (io.kubevmm.operator.snapshot.SnapshotPhases.beingTaken(snapshot.getStatus()) && snapshot.getSpec() != null && vmName.equals(snapshot.getSpec().getVmName())) {
                return new Decision.Wait("SnapshotInProgress", "VMSnapshot " + snapshot.getMetadata().getName()
                        + " of VirtualMachine " + vmName + " is being taken; the migration starts when it ends");
            }
        }

        String target = migration.getSpec().getTargetNode();
        List<NodeCandidate> elsewhere = nodes.stream().filter(n -> !n.name().equals(source)).toList();
        if (target != null) {
            if (target.equals(source)) {
                return new Decision.Reject("InvalidTarget", "spec.targetNode: VirtualMachine " + vmName + " already runs on "
                        + source + "; name another node or leave targetNode unset");
            }
            if (nodes.stream().noneMatch(n -> n.name().equals(target))) {
                return new Decision.Reject("InvalidTarget", "spec.targetNode: there is no VMNode named " + target
                        + " (nodes: " + String.join(", ", nodes.stream().map(NodeCandidate::name).toList()) + ")");
            }
            elsewhere = elsewhere.stream().filter(n -> n.name().equals(target)).toList();
        }
        Scheduler.Decision placement = scheduler.place(request, elsewhere);
        if (!placement.placed()) {
            return target != null
                    ? new Decision.Reject("TargetDoesNotFit", "spec.targetNode: " + placement.message())
                    : new Decision.Wait("Unschedulable", "no other node can take the VM: " + placement.message());
        }

        long inFlight = others.stream().filter(MigrationAdmission::active).count();
        if (inFlight >= limits.maxParallel()) {
            return new Decision.Wait("WaitingForSlot", inFlight + " migrations are in flight in the cluster (limit "
                    + limits.maxParallel() + ")");
        }
        long outbound = others.stream().filter(MigrationAdmission::active)
                .filter(m -> source.equals(m.getStatus().getSourceNode())).count();
        if (outbound >= limits.maxOutboundPerNode()) {
            return new Decision.Wait("WaitingForSlot", outbound + " migrations are leaving node " + source + " (limit "
                    + limits.maxOutboundPerNode() + " per node)");
        }
        return new Decision.Admit(source, placement.node().orElseThrow());
    }
}
