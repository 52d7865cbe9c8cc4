package io.kubevmm.operator.network;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.api.v1alpha1.VMNetwork;
import io.kubevmm.api.v1alpha1.VMNetworkStatus;
import io.kubevmm.api.v1alpha1.VMNetworkStatus.Allocation;
import io.kubevmm.api.v1alpha1.VirtualMachine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Gives VMs their address on a VMNetwork through the API server. Every change to a network's
 * address book is a write of its status carrying the resourceVersion read
 * ({@link NetworkStatusWriter}); the API server
 * refuses it (409 Conflict) when another allocation wrote in between, and the allocator reads
 * again and retries, so two VMs never get one address, whichever operator or thread asks.
 */
public class NetworkAllocator {
    /** Attempts per allocation before giving the reconcile back (it retries later). */
    static final int MAX_ATTEMPTS = 12;

    private final KubernetesClient client;
    private int conflicts;

    public NetworkAllocator(KubernetesClient client) {
        this.client = client;
    }

    /** The VM's address, or why it has none (reason for a condition, message naming the field and the fix). */
    public sealed interface Result permits Allocated, Refused { }

    /** {@code attachment} carries networkName, cidr, vni, ipAddress and macAddress; {@code added}: new in the book. */
    public record Allocated(OverlayAttachment attachment, boolean added) implements Result { }

    /** {@code transientFailure}: conflicts only, worth retrying at once. */
    public record Refused(String reason, String message, boolean transientFailure) implements Result { }

    /** Conflicts met so far (metrics). */
    public synchronized int conflicts() {
        return conflicts;
    }

    /**
     * Allocates (or returns the held) address of {@code vm} on network {@code networkName}.
     * {@code record} is the VM's own record (status.network): its address and MAC are asked for
     * first, so a VM keeps them even if the network's book lost its entry.
     */
    public Result allocate(VirtualMachine vm, String networkName, OverlayAttachment record) {
        String vmKey = vm.getMetadata().getNamespace() + "/" + vm.getMetadata().getName();
        String uid = vm.getMetadata().getUid();
        boolean sameNetwork = record != null && networkName.equals(record.getNetworkName());
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            VMNetwork network = client.resources(VMNetwork.class).withName(networkName).get();
            if (network == null) {
                return new Refused("NetworkNotFound", "spec.network.networkName: VMNetwork \"" + networkName
                        + "\" does not exist; create it (cluster-scoped, spec.cidr and spec.vni) or name one of `kubectl get vmnetworks`", false);
            }
            String cidr = network.getSpec() == null ? null : network.getSpec().getCidr();
            Ipv4Range.Parsed parsed = Ipv4Range.parse(cidr);
            if (parsed.range().isEmpty()) {
                return new Refused("NetworkInvalid", "spec.network.networkName: VMNetwork \"" + networkName + "\" is unusable: spec.cidr "
                        + parsed.error() + "; fix the VMNetwork or name another network", false);
            }
            var valid = network.getStatus() == null ? null
                    : Conditions.find(network.getStatus().getConditions(), ConditionTypes.VALID).orElse(null);
            if (valid != null && "False".equals(valid.getStatus())) {
                return new Refused("NetworkInvalid", "spec.network.networkName: VMNetwork \"" + networkName + "\" is unusable: "
                        + valid.getMessage() + "; fix the VMNetwork or name another network", false);
            }
            Ipv4Range range = parsed.range().get();
            List<Allocation> book = network.getStatus() == null ? null : network.getStatus().getAllocations();
            var outcome = AddressBook.claim(range, book, vmKey, uid,
                    sameNetwork ? record.getIpAddress() : null, sameNetwork ? record.getMacAddress() : null);
            switch (outcome) {
                case AddressBook.Held held -> {
                    return new Allocated(attachment(network, range, held.allocation()), false);
                }
                case AddressBook.Exhausted full -> {
                    return new Refused("NetworkFull", "spec.network.networkName: VMNetwork \"" + networkName + "\" (" + range
                            + ") has no free address: all " + full.capacity() + " are held; delete a VM on it, or give this VM"
                            + " another network (a VMNetwork with a larger spec.cidr)", false);
                }
                case AddressBook.Added added -> {
                    if (write(network, range, added.allocations())) {
                        return new Allocated(attachment(network, range, added.allocation()), true);
                    }
                }
            }
            backOff(attempt);
        }
        return new Refused("AllocationConflict", "spec.network.networkName: the address book of VMNetwork \"" + networkName
                + "\" changed under every one of " + MAX_ATTEMPTS + " attempts (many VMs allocating at once); trying again", true);
    }

    /**
     * Removes every entry of the VM (by uid) from every network. Returns the networks it was
     * removed from. Throws when the API server keeps refusing; the caller retries.
     */
    public List<String> release(String vmUid) {
        List<String> released = new ArrayList<>();
        for (VMNetwork listed : client.resources(VMNetwork.class).list().getItems()) {
            if (holds(listed, vmUid) && releaseFrom(listed.getMetadata().getName(), vmUid)) {
                released.add(listed.getMetadata().getName());
            }
        }
        return released;
    }

    /** Removes the VM's entries from one network; false when it held none (or the network is gone). */
    public boolean releaseFrom(String networkName, String vmUid) {
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            VMNetwork network = client.resources(VMNetwork.class).withName(networkName).get();
            if (network == null || !holds(network, vmUid)) {
                return false;
            }
            Ipv4Range range = Ipv4Range.parse(network.getSpec() == null ? null : network.getSpec().getCidr()).range().orElse(null);
            if (write(network, range, AddressBook.release(network.getStatus().getAllocations(), vmUid))) {
                return true;
            }
            backOff(attempt);
        }
        throw new IllegalStateException("the address book of VMNetwork " + networkName + " changed under every one of "
                + MAX_ATTEMPTS + " attempts to release VM uid " + vmUid);
    }

    private static boolean holds(VMNetwork network, String vmUid) {
        return network.getStatus() != null && network.getStatus().getAllocations() != null
                && network.getStatus().getAllocations().stream().anyMatch(a -> vmUid.equals(a.getVmUid()));
    }

    /** Writes the book with the resourceVersion read as precondition; false on 409 Conflict. */
    private boolean write(VMNetwork network, Ipv4Range range, List<Allocation> allocations) {
        VMNetworkStatus status = network.getStatus() == null ? new VMNetworkStatus() : network.getStatus();
        status.setAllocations(allocations == null || allocations.isEmpty() ? null : allocations);
        counts(status, range);
        if (NetworkStatusWriter.write(client, network, status)) {
            return true;
        }
        synchronized (this) {
            conflicts++;
        }
        return false;
    }

    /** allocatedCount and freeCount from the book; both unset when the range does not parse. */
    static void counts(VMNetworkStatus status, Ipv4Range range) {
        if (range == null) {
            status.setAllocatedCount(null);
            status.setFreeCount(null);
            return;
        }
        long held = AddressBook.allocated(range, status.getAllocations());
        status.setAllocatedCount((int) held);
        status.setFreeCount((int) Math.min(Integer.MAX_VALUE, range.assignableCount() - held));
    }

    private static OverlayAttachment attachment(VMNetwork network, Ipv4Range range, Allocation a) {
        OverlayAttachment attachment = new OverlayAttachment();
        attachment.setNetworkName(network.getMetadata().getName());
        attachment.setCidr(range.toString());
        attachment.setVni(network.getSpec().getVni());
        attachment.setIpAddress(a.getIpAddress());
        attachment.setMacAddress(a.getMacAddress());
        return attachment;
    }

    /** A short random pause, so racing allocators do not meet again in lockstep. */
    private static void backOff(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(5, 20L * Math.min(attempt, 5)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while allocating an address", e);
        }
    }
}
