package io.kubevmm.operator.vm;

import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.operator.network.NetworkAllocator;
import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineStatus;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.api.v1alpha1.VmState;

/**
 * The one place a VirtualMachine's status is computed: from its validity, its placement and
 * its instance's status. Pure.
 */
final class VmStatusFactory {
    private VmStatusFactory() { }

    /** What the reconciler found out this round. {@code vmi} may be null. */
    /** @param nodeLostMessage set while the instance's node is lost: what happens to the VM (docs/ha.md) */
    record Observation(String invalidMessage, String placedOn, String unschedulableMessage, VirtualMachineInstance vmi,
                       OverlayAttachment network, NetworkAllocator.Refused networkProblem, String nodeLostMessage) {
        Observation(String invalidMessage, String placedOn, String unschedulableMessage, VirtualMachineInstance vmi) {
            this(invalidMessage, placedOn, unschedulableMessage, vmi, null, null, null);
        }
    }

    static VirtualMachineStatus compute(VirtualMachine vm, Observation o) {
        VirtualMachineStatus previous = vm.getStatus();
        long generation = vm.getMetadata().getGeneration() == null ? 0 : vm.getMetadata().getGeneration();
        Conditions c = new Conditions(previous == null ? null : previous.getConditions(), generation);
        VirtualMachineStatus s = new VirtualMachineStatus();
        s.setObservedGeneration(generation);

        if (o.invalidMessage() != null) {
            c.set(ConditionTypes.VALID, false, "InvalidSpec", o.invalidMessage());
        } else {
            c.set(ConditionTypes.VALID, true, "SpecValid", "spec is valid");
        }
        VmState want = SpecDefaults.state(vm.getSpec());
        VirtualMachineInstance vmi = o.vmi();
        var instance = vmi == null ? null : vmi.getStatus();

        s.setDiskNode(diskNode(vm, vmi));
        s.setNetwork(o.network());
        if (o.networkProblem() != null && o.invalidMessage() == null) {
            // Named first: without its address the VM is not placed, and a placed one is not changed.
            s.setNodeName(o.placedOn());
            c.set(ConditionTypes.SCHEDULED, false, o.networkProblem().reason(), o.networkProblem().message()
                    + (vmi != null ? " (its current instance is left as it is)" : ""));
        } else if (o.placedOn() != null) {
            s.setNodeName(o.placedOn());
            c.set(ConditionTypes.SCHEDULED, true, "Scheduled", "placed on node " + o.placedOn());
        } else if (o.unschedulableMessage() != null) {
            c.set(ConditionTypes.SCHEDULED, false, "Unschedulable", o.unschedulableMessage());
        } else {
            c.set(ConditionTypes.SCHEDULED, false, want == VmState.Defined ? "NotRequested" : "Pending",
                    want == VmState.Defined ? "state is Defined: nothing is allocated on any node" : "not scheduled yet");
        }

        var readyCondition = instance == null ? null : Conditions.find(instance.getConditions(), ConditionTypes.READY).orElse(null);
        if (o.nodeLostMessage() != null) {
            // What the instance last reported came from a node that is gone: not the truth any more.
            c.set(ConditionTypes.READY, false, "NodeLost", o.nodeLostMessage());
        } else if (readyCondition != null && "True".equals(readyCondition.getStatus())) {
            c.set(ConditionTypes.READY, true, readyCondition.getReason(), readyCondition.getMessage());
        } else if (o.invalidMessage() != null) {
            c.set(ConditionTypes.READY, false, "InvalidSpec", o.invalidMessage());
        } else if (readyCondition != null) {
            c.set(ConditionTypes.READY, false, readyCondition.getReason(), readyCondition.getMessage());
        } else {
            c.set(ConditionTypes.READY, false, "NotRunning", want == VmState.Defined ? "VM is defined only" : "no running instance yet");
        }

        if (instance != null && instance.getImages() != null && !instance.getImages().isEmpty()) {
            s.setImages(instance.getImages());
        }
        guestAgent(s, c, instance);
        migratable(c, instance == null ? null : instance);
        s.setPhase(phase(want, o, instance == null ? null : instance.getPhase(), vmi != null));
        s.setConditions(c.build());
        return s;
    }

    /**
     * The node that holds the VM's local disks: where its instance is placed (a migration's
     * handover moves the instance, and so this, to the target), or while it has none, where it
     * last was. Null for a VM without disks.
     */
    static String diskNode(VirtualMachine vm, VirtualMachineInstance vmi) {
        if (vm.getSpec() == null || vm.getSpec().getDisks() == null || vm.getSpec().getDisks().isEmpty()) {
            return null;
        }
        if (vmi != null && vmi.getSpec() != null && vmi.getSpec().getNodeName() != null) {
            return vmi.getSpec().getNodeName();
        }
        return vm.getStatus() == null ? null : vm.getStatus().getDiskNode();
    }

    /**
     * What the instance's node hears from the guest agent: the guest block and AgentConnected as
     * the instance has them; without an instance (or from a node that does not report it) neither.
     */
    private static void guestAgent(VirtualMachineStatus s, Conditions c, io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus instance) {
        var agent = instance == null ? null : Conditions.find(instance.getConditions(), ConditionTypes.AGENT_CONNECTED).orElse(null);
        if (agent != null) {
            c.set(ConditionTypes.AGENT_CONNECTED, "True".equals(agent.getStatus()), agent.getReason(), agent.getMessage());
            s.setGuest("True".equals(agent.getStatus()) ? instance.getGuest() : null);
        }
    }

    /** Live migration moves a guest whose memory is loaded: running, or suspended to memory. */
    private static void migratable(Conditions c, io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus instance) {
        InstancePhase phase = instance == null ? null : instance.getPhase();
        boolean onDisk = instance != null && Conditions.find(instance.getConditions(), ConditionTypes.PAUSED)
                .filter(p -> "True".equals(p.getStatus()) && "SuspendedToDisk".equals(p.getReason())).isPresent();
        if (phase == InstancePhase.Migrating) {
            c.set(ConditionTypes.MIGRATABLE, true, "Migrating", "a live migration is in progress");
        } else if (phase == InstancePhase.Running || (phase == InstancePhase.Suspended && !onDisk)) {
            c.set(ConditionTypes.MIGRATABLE, true, "LiveMigratable", "memory, devices and local disks can be live-migrated");
        } else if (onDisk) {
            c.set(ConditionTypes.MIGRATABLE, false, "SuspendedToDisk", "suspended to disk: resume it (or suspend to memory) before migrating");
        } else {
            c.set(ConditionTypes.MIGRATABLE, false, "NotRunning", "only a running or suspended-to-memory VM can be live-migrated");
        }
    }

    static VmPhase phase(VmState want, Observation o, InstancePhase instance, boolean vmiExists) {
        if (o.invalidMessage() != null && !vmiExists) {
            return VmPhase.Failed;
        }
        if (want == VmState.Defined) {
            return vmiExists ? VmPhase.Stopping : VmPhase.Defined;
        }
        if (!vmiExists) {
            return o.unschedulableMessage() != null || o.networkProblem() != null ? VmPhase.Pending : VmPhase.Scheduling;
        }
        if (instance == null) {
            return VmPhase.Creating;
        }
        return switch (instance) {
            case Pending, Creating -> VmPhase.Creating;
            case Stopped, Succeeded -> VmPhase.Stopped;
            case Starting -> VmPhase.Starting;
            case Running -> VmPhase.Running;
            case Suspending -> VmPhase.Suspending;
            case Suspended -> VmPhase.Suspended;
            case Resuming -> VmPhase.Resuming;
            case Stopping -> VmPhase.Stopping;
            case Migrating -> VmPhase.Migrating;
            case Failed -> VmPhase.Failed;
        };
    }
}
