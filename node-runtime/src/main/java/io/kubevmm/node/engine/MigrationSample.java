package io.kubevmm.node.engine;

/**
 * One look at a running migration from the source side, in bytes and milliseconds, so the
 * policy never deals with an emulator's units or words.
 *
 * @param elapsedMillis               time since the migration was started
 * @param status                      where the stream stands
 * @param iterations                  passes over memory so far: 1 during the first (bulk) pass,
 *                                    one more at the end of every pass
 * @param dirtyRateBytesPerSecond     how fast the guest dirtied memory during the last pass
 * @param transferRateBytesPerSecond  how fast pages went out recently
 * @param throttlePercent             how much auto-converge currently slows the guest's vCPUs
 * @param expectedDowntimeMillis      the emulator's estimate of the pause if it switched over now; 0 when unknown
 */
public record MigrationSample(
        long elapsedMillis,
        MigrationStatus status,
        long iterations,
        long totalBytes,
        long transferredBytes,
        long remainingBytes,
        long dirtyRateBytesPerSecond,
        long transferRateBytesPerSecond,
        int throttlePercent,
        long expectedDowntimeMillis) {

    /** True once the migration has switched to post-copy: the guest runs on the target from then on. */
    public boolean inPostCopy() {
        return status.inPostCopy();
    }
}
