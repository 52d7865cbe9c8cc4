package io.kubevmm.api.v1alpha1;

/** The lifecycle state a user asks for (the survey's lifecycle). */
public enum VmState {
    /** Only the definition exists; nothing is allocated on any node. */
    Defined,
    /** An instance is created on a node with vCPUs halted, so it starts fast. */
    Stopped,
    /** Executing. */
    Running,
    /** Paused with its state kept (see suspendMode). */
    Suspended
}
