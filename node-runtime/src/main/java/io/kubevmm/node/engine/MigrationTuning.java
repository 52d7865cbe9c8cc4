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
 */
public record MigrationTuning(boolean postcopy, boolean autoConverge, long maxDowntimeMillis, long bandwidthBytesPerSecond,
                              int multifdChannels) {

    public MigrationTuning {
        if (multifdChannels < 0) {
            throw new IllegalArgumentException("multifdChannels must be 0 (one stream) or positive, got " + multifdChannels);
        }
    }

    public MigrationTuning(boolean postcopy, boolean autoConverge, long maxDowntimeMillis, long bandwidthBytesPerSecond) {
        this(postcopy, autoConverge, maxDowntimeMillis, bandwidthBytesPerSecond, 0);
    }

    public MigrationTuning withMultifdChannels(int channels) {
        return new MigrationTuning(postcopy, autoConverge, maxDowntimeMillis, bandwidthBytesPerSecond, channels);
    }
}
