package io.kubevmm.node.engine;

/** What the emulator reports about its vCPUs, reduced to the states the lifecycle cares about. */
public enum RunState {
    /** Created, vCPUs never started (QEMU {@code prelaunch}) or loading incoming state. */
    CREATED,
    RUNNING,
    PAUSED,
    /** The guest shut down; the process is still alive and can be reset or quit. */
    SHUTDOWN,
    /** The guest panicked. */
    CRASHED,
    /** The guest was live-migrated away; this copy must never run again. */
    MIGRATED,
    /** The process is gone. */
    GONE
}
