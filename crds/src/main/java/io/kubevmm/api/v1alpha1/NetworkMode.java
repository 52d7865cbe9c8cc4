package io.kubevmm.api.v1alpha1;

/** How a guest is networked. */
public enum NetworkMode {
    /** No network device. */
    none,
    /** A virtio NIC behind user-mode NAT on the node. */
    user,
    /**
     * A virtio NIC on a cluster network (a {@link VMNetwork}): one IP and MAC for the VM's life,
     * reachable from every node, kept through live migration.
     */
    overlay
}
