package io.kubevmm.node.engine;

/**
 * How the source emulator sends one live migration.
 *
 * @param postcopy             enable post-copy so the policy may switch to it (both sides need it)
 * @param autoConverge         let the emulator throttle vCPUs that dirty memory faster than it is sent
 * @param maxDowntimeMillis    longest pause allowed at switchover (the emulator aims below it, see QemuMigration)
 * @param bandwidthBytesPerSecond cap on the stream; 0 means none
 */
public record MigrationTuning(boolean postcopy, boolean autoConverge, long maxDowntimeMillis, long bandwidthBytesPerSecond) {
}
