package io.kubevmm.node.migration;

/**
 * What the migration executor should do next, as decided by {@link MigrationPolicy}. Every action
 * other than {@link Continue} carries a reason: a sentence with the numbers that led to it, shown to
 * users in the VMMigration's status and events.
 */
public sealed interface PolicyAction {

    /** Keep going as configured. */
    record Continue() implements PolicyAction { }

    /**
     * Pre-copy is stuck although auto-converge is on: set QEMU's {@code cpu-throttle-increment} to
     * {@code incrementPercent} so each further pass slows the guest's vCPUs harder.
     */
    record RaiseThrottle(int incrementPercent, String reason) implements PolicyAction { }

    /** Issue {@code migrate-start-postcopy}: the guest continues on the target, which pulls missing pages. */
    record SwitchToPostCopy(String reason) implements PolicyAction { }

    /** Cancel the migration ({@code migrate_cancel}); the VM keeps running on the source. */
    record Abort(String reason) implements PolicyAction { }
}
