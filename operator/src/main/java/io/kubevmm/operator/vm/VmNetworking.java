package io.kubevmm.operator.vm;

import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.operator.network.NetworkAllocator;

/**
 * A VM's overlay address for this reconcile: allocated from its VMNetwork before its instance
 * is created or updated (the instance's spec carries it to the node), kept in the VM's status as
 * its record for its life, and given back when it leaves the network while it has no instance
 * (with an instance, its guest may still use the address; deletion releases every address).
 */
final class VmNetworking {
    static final String DEFAULT_NETWORK = "default";

    private final NetworkAllocator allocator;

    VmNetworking(NetworkAllocator allocator) {
        this.allocator = allocator;
    }

    /**
     * @param forInstance the attachment the instance's spec gets (null: none)
     * @param record      status.network: networkName, ipAddress, macAddress (null: none)
     * @param problem     why the VM cannot have its address now (its instance is then neither created nor changed), or null
     */
    record Decision(OverlayAttachment forInstance, OverlayAttachment record, NetworkAllocator.Refused problem) {
        boolean blocked() {
            return problem != null;
        }
    }

    static boolean overlay(VirtualMachine vm) {
        return vm.getSpec() != null && vm.getSpec().getNetwork() != null && vm.getSpec().getNetwork().getMode() == NetworkMode.overlay;
    }

    static String networkName(VirtualMachine vm) {
        String name = vm.getSpec().getNetwork().getNetworkName();
        return name == null || name.isBlank() ? DEFAULT_NETWORK : name;
    }

    /**
     * @param wantsInstance the spec is valid and asks for an instance (state other than Defined)
     * @param hasInstance   the VM has an instance now
     */
    Decision decide(VirtualMachine vm, boolean wantsInstance, boolean hasInstance) {
        OverlayAttachment previous = vm.getStatus() == null ? null : vm.getStatus().getNetwork();
        if (overlay(vm) && wantsInstance) {
            String name = networkName(vm);
            NetworkAllocator.Result result = allocator.allocate(vm, name, previous);
            if (result instanceof NetworkAllocator.Refused refused) {
                return new Decision(null, previous, refused);
            }
            OverlayAttachment attachment = ((NetworkAllocator.Allocated) result).attachment();
            if (previous != null && !name.equals(previous.getNetworkName()) && !hasInstance) {
                allocator.releaseFrom(previous.getNetworkName(), vm.getMetadata().getUid());
            }
            return new Decision(attachment, record(attachment), null);
        }
        if (!overlay(vm) && previous != null && !hasInstance) {
            allocator.releaseFrom(previous.getNetworkName(), vm.getMetadata().getUid());
            return new Decision(null, null, null);
        }
        return new Decision(null, previous, null);
    }

    /** Releases every address the VM holds (its deletion); returns the networks. */
    java.util.List<String> release(VirtualMachine vm) {
        return allocator.release(vm.getMetadata().getUid());
    }

    /** What the VM's status shows: the network and the addresses, not the segment. */
    static OverlayAttachment record(OverlayAttachment attachment) {
        OverlayAttachment record = new OverlayAttachment();
        record.setNetworkName(attachment.getNetworkName());
        record.setIpAddress(attachment.getIpAddress());
        record.setMacAddress(attachment.getMacAddress());
        return record;
    }
}
