package io.kubevmm.node.engine;

/**
 * Where a migration stream stands, in the engine's neutral words. The migration policy, the
 * two migration halves and crash recovery decide on these values; each engine maps its own
 * states onto them (QEMU's in {@code engine/qemu/QueryMigrate}).
 */
public enum MigrationStatus {
    /** No migration has run in this emulator. */
    NONE,
    /** Connecting and preparing; no page has gone out yet. */
    SETUP,
    /** Pre-copy: memory streams while the guest runs at the source. */
    ACTIVE,
    /** The guest is stopped and the last state goes out (device state, switchover). */
    SWITCHING_OVER,
    /** Post-copy: the guest runs at the target and pulls the pages still missing. */
    POSTCOPY,
    /** A cancel was asked and is under way. */
    CANCELLING,
    CANCELLED,
    FAILED,
    COMPLETED,
    /** A state this runtime does not know, or one it could not read: decides nothing on its own. */
    UNKNOWN;

    /** The stream is still being written and has not switched to post-copy. */
    public boolean inProgress() {
        return this == SETUP || this == ACTIVE || this == SWITCHING_OVER || this == CANCELLING;
    }

    /** Copying ahead of the guest, or about to start: the only states a policy can steer. */
    public boolean inPreCopy() {
        return this == SETUP || this == ACTIVE;
    }

    public boolean inPostCopy() {
        return this == POSTCOPY;
    }

    /** Over, or never started, without a completed transfer. */
    public boolean endedWithoutCompletion() {
        return this == NONE || this == FAILED || this == CANCELLED;
    }

    /** The stream will not change any more. */
    public boolean isFinal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }
}
