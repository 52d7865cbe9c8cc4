package io.kubevmm.node.lifecycle;

import io.kubevmm.node.engine.RunState;

/** Where a VM's machine is, as this node knows it. */
public enum MachineState {
    /** No emulator process and no saved state. */
    ABSENT,
    /** Process up, memory and kernel loaded, vCPUs never started: the survey's "stopped". */
    CREATED,
    RUNNING,
    /** vCPUs paused in place, memory kept (suspend to memory). */
    PAUSED,
    /** Full state saved in the VM's state dir, no process (suspend to disk). */
    SAVED_TO_DISK,
    /** The guest powered itself off; the process waits for a decision. */
    POWERED_OFF,
    /** The guest panicked, or the emulator process died under it. */
    CRASHED,
    /** The guest powered off and the restart policy keeps it off. Terminal. */
    FINISHED,
    /** The guest was live-migrated to another node; nothing of it runs here any more. Terminal. */
    MIGRATED,
    /**
     * A process of this VM is alive but its monitor does not answer. Left running (it may hold
     * the guest's only memory), reported, and adopted again later; nothing else is started.
     */
    UNREACHABLE,
    /** A failure the restart policy does not retry, or a spec that cannot run here. Terminal until the spec changes. */
    FAILED;

    /**
     * The one reading of what an emulator reports about its vCPUs as a machine state: used when a
     * runner adopts an emulator, takes over one that arrived, and after a migration that failed.
     */
    public static MachineState of(RunState state) {
        return switch (state) {
            case CREATED -> CREATED;
            case RUNNING -> RUNNING;
            case PAUSED -> PAUSED;
            case SHUTDOWN -> POWERED_OFF;
            case CRASHED, GONE -> CRASHED;
            case MIGRATED -> MIGRATED;
        };
    }
}
