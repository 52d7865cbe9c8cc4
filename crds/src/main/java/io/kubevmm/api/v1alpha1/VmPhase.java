package io.kubevmm.api.v1alpha1;

/** Where a VirtualMachine is in its lifecycle. */
public enum VmPhase {
    Pending, Scheduling, Creating, Stopped, Starting, Running, Suspending, Suspended, Resuming, Migrating, Stopping, Defined, Failed
}
