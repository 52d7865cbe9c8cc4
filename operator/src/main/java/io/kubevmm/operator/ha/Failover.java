package io.kubevmm.operator.ha;

import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.VmState;
import io.kubevmm.api.v1alpha1.VirtualMachine;

import java.time.Duration;
import java.time.Instant;

/**
 * What happens to a VM whose node is lost (docs/ha.md): it stays down (mode None, or local disks
 * the user did not give up), waits until the node is provably fenced, or moves to another node.
 * Pure: every decision and every message is unit-testable with any clock.
 */
public final class Failover {
    private Failover() { }

    public enum Action {
        /** The node is not lost: nothing to do. */
        NONE,
        /** Stays where it is until its node returns. */
        STAY_DOWN,
        /** Restarts elsewhere once the node is fenced (marked, and past {@link NodeLease#fencedBy}). */
        WAIT_FOR_FENCE,
        /** Restart it on another node now. */
        RESTART_ELSEWHERE
    }

    /** The decision, the message for the VM's Ready condition (reason NodeLost), and when to look again. */
    public record Decision(Action action, String message, Instant recheckAt) {
        public boolean nodeLost() { return action != Action.NONE; }
    }

    public static Decision decide(VirtualMachine vm, NodeLease lease, Instant now, Duration margin) {
        String node = lease.node();
        HighAvailabilitySpec.Mode mode = HighAvailabilitySpec.mode(vm.getSpec());
        if (!lease.lost(now)) {
            if (!lease.fenceMarked() || mode != HighAvailabilitySpec.Mode.Restart) {
                return new Decision(Action.NONE, null, null); // a mode None guest is never fenced: it runs again
            }
            if (!movable(vm)) {
                // Back, but still marked fenced: its Restart guests do not boot until the operator removes the mark.
                return new Decision(Action.STAY_DOWN, "node " + node + " is back after it was lost; the VM starts there "
                        + "again once the operator removes the node's fence mark", now.plusSeconds(1));
            }
            // Back and marked: a movable VM still moves; the node does not run it while the mark is there.
        }
        String cause = "node " + node + " is lost: its Lease kubevmm-node-" + node + " was last renewed at "
                + (lease.renewTime() == null ? "never" : lease.renewTime()) + " and expired at "
                + (lease.renewTime() == null ? "once it was missing" : lease.expiresAt());
        if (mode != HighAvailabilitySpec.Mode.Restart) {
            return new Decision(Action.STAY_DOWN, cause + "; the VM stays down: highAvailability.mode is " + mode
                    + "; it starts again when node " + node + " returns or when you delete and recreate it", null);
        }
        VmState state = SpecDefaults.state(vm.getSpec());
        if (state != VmState.Running) {
            // Nothing runs to bring back; a suspended guest's memory is on the lost node.
            return new Decision(Action.STAY_DOWN, cause + "; the VM stays where it is: its spec.state is " + state
                    + " (only a Running VM restarts on another node); it is there again when node " + node + " returns", null);
        }
        if (hasDisks(vm) && !HighAvailabilitySpec.restartsWithLocalDiskLoss(vm.getSpec())) {
            return new Decision(Action.STAY_DOWN, cause + "; the VM stays down: its disks exist only on node " + node
                    + "; it starts again when that node returns, or set spec.highAvailability.restartWithLocalDiskLoss: true "
                    + "to restart it on another node with fresh disks", null);
        }
        if (lease.version() == null) {
            // No Lease to put the fence mark on: nothing proves the node stopped its guests.
            return new Decision(Action.WAIT_FOR_FENCE, cause + "; the VM restarts on another node only once the node's Lease "
                    + "kubevmm-node-" + node + " exists and shows it expired and fenced", now.plusSeconds(5));
        }
        Instant fencedBy = lease.fencedBy(margin);
        // A node that renewed after the mark read it with that renewal: it runs none of these guests any more.
        boolean fenced = lease.fenceMarked() && (lease.renewedSinceFence() || !now.isBefore(fencedBy));
        if (!fenced) {
            return new Decision(Action.WAIT_FOR_FENCE, cause + "; restarting on another node after fencing at " + fencedBy
                    + (hasDisks(vm) ? " (with fresh disks: restartWithLocalDiskLoss)" : ""),
                    now.isBefore(fencedBy) ? fencedBy : now.plusSeconds(1));
        }
        return new Decision(Action.RESTART_ELSEWHERE, cause + "; fenced at " + lease.fencedAt() + "; restarting on another node"
                + (hasDisks(vm) ? " with fresh disks (restartWithLocalDiskLoss)" : ""), now.plusSeconds(1));
    }

    /** Whether a lost node's VM is one the operator moves: mode Restart, meant to run, and no disks or the user gave them up. */
    public static boolean movable(VirtualMachine vm) {
        return HighAvailabilitySpec.mode(vm.getSpec()) == HighAvailabilitySpec.Mode.Restart
                && SpecDefaults.state(vm.getSpec()) == VmState.Running
                && (!hasDisks(vm) || HighAvailabilitySpec.restartsWithLocalDiskLoss(vm.getSpec()));
    }

    private static boolean hasDisks(VirtualMachine vm) {
        return vm.getSpec() != null && vm.getSpec().getDisks() != null && !vm.getSpec().getDisks().isEmpty();
    }
}
