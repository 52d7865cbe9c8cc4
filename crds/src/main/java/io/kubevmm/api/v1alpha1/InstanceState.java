package io.kubevmm.api.v1alpha1;

/** The node-level state a VirtualMachineInstance asks for. */
public enum InstanceState {
    /** Machine created on the node (memory, kernel, devices) with vCPUs halted. */
    Stopped,
    /** Executing. */
    Running,
    /** Paused with its state kept (see suspendMode). */
    Suspended
}
