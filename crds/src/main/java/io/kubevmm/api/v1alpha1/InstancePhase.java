package io.kubevmm.api.v1alpha1;

/** Where a VirtualMachineInstance is on its node. */
public enum InstancePhase {
    Pending, Creating, Stopped, Starting, Running, Suspending, Suspended, Resuming, Stopping,
    /** Being live-migrated to another node (on the source), until the instance moves to the target. */
    Migrating,
    /** The guest powered off and the restart policy keeps it off. */
    Succeeded,
    /** The guest crashed under restart policy Never, or the node cannot run this spec (see the Failure condition). */
    Failed
}
