package io.kubevmm.api.v1alpha1;

/** How a VM is suspended. */
public enum SuspendMode {
    /** Pause vCPUs in place; memory stays allocated on the node. Resume is instant. */
    Memory,
    /** Save the full machine state to the node's disk and free its memory; resume continues the same guest. */
    Disk
}
