package io.kubevmm.api.v1alpha1;

/** How a guest is networked. */
public enum NetworkMode {
    /** No network device. */
    none,
    /** A virtio NIC behind user-mode NAT on the node. */
    user
}
