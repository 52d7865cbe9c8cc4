package io.kubevmm.api.status;

/**
 * The condition types KubeVMM writes into status, one spelling each: writers and readers (the
 * operator, the node runtimes, the CLI) name them here, so a reader never looks for a type
 * under a spelling no writer uses.
 */
public final class ConditionTypes {
    /** VM, VMI: the guest runs and passed its readiness check; VMNode: the node runtime runs. */
    public static final String READY = "Ready";
    /** VM, VMI: the guest's vCPUs are stopped (suspended in memory or on disk). */
    public static final String PAUSED = "Paused";
    /** VM, VMI: the last failure, with its reason. */
    public static final String FAILURE = "Failure";
    /** VM, VMI: whether a live migration could move the guest now. */
    public static final String MIGRATABLE = "Migratable";
    /** VM, VMI: whether qemu-guest-agent in the guest answers (reason Connected, AgentNotRunning, AgentNotResponding, NoChannel). */
    public static final String AGENT_CONNECTED = "AgentConnected";
    /** VM: its instance is being deleted. */
    public static final String DELETING = "Deleting";
    /** VM: spec validation. */
    public static final String VALID = "Valid";
    /** VMMigration, VMSnapshot, VMRestore: admitted and handed to a node. */
    public static final String SCHEDULED = "Scheduled";
    /** VMSnapshot, VMRestore: done. */
    public static final String COMPLETE = "Complete";
    /** VMMigration: done. */
    public static final String COMPLETED = "Completed";
    /** VMMigration: the target's incoming emulator waits for the stream. */
    public static final String TARGET_READY = "TargetReady";
    /** VMMigration: the guest runs on the target. */
    public static final String TARGET_RUNNING = "TargetRunning";
    /** VMNode: guests run as an unprivileged user. */
    public static final String QEMU_UNPRIVILEGED = "QemuUnprivileged";

    private ConditionTypes() { }
}
