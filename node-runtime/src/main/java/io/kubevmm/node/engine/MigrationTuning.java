package io.kubevmm.node.engine;

/**
 * How the source emulator sends one live migration.
 *
 * @param postcopy             enable post-copy so the policy may switch to it (both sides need it)
 * @param autoConverge         let the emulator throttle vCPUs that dirty memory faster than it is sent
 * @param maxDowntimeMillis    longest pause allowed at switchover (the emulator aims below it, see QemuMigration)
 * @param bandwidthBytesPerSecond cap on the stream; 0 means none
 * @param multifdChannels      memory pages go over this many parallel connections besides the main
 *                             stream (QEMU multifd; the target must listen with the same number); 0: one stream
 * @param postcopyPreempt      in post-copy, the pages the target faults on go over a connection of
 *                             their own, ahead of the background pages (QEMU postcopy-preempt; the
 *                             target must listen with it too); only with {@code postcopy}
 */
public record MigrationTuning(boolean postcopy, boolean autoConverge, long maxDowntimeMillis, long bandwidthBytesPerSecond,
                              int multifdChannels, boolean postcopyPreempt) {

    public MigrationTuning {
        if (multifdChannels < 0) {
            throw new IllegalArgumentException("multifdChannels must be 0 (one stream) or positive, got " + multifdChannels);
        }
        if (postcopyPreempt && !postcopy) {
            throw new IllegalArgumentException("postcopyPreempt needs postcopy");
        }
    }

    public MigrationTuning(boolean postcopy, boolean autoConverge, long maxDowntimeMillis, long bandwidthBytesPerSecond) {
        this(postcopy, autoConverge, maxDowntimeMillis, bandwidthBytesPerSecond, 0, false);
    }

    public MigrationTuning withMultifdChannels(int channels) {
        return new MigrationTuning(postcopy, autoConverge, maxDowntimeMillis, bandwidthBytesPerSecond, channels, postcopyPreempt);
    }

    /** With the preempt channel where {@code wanted} and post-copy is allowed at all. */
    public MigrationTuning withPostcopyPreempt(boolean wanted) {
        return new MigrationTuning(postcopy, autoConverge, maxDowntimeMillis, bandwidthBytesPerSecond, multifdChannels,
                wanted && postcopy);
    }
}
