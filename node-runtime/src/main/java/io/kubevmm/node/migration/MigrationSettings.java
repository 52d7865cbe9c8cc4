package io.kubevmm.node.migration;

import io.kubevmm.api.v1alpha1.VMMigrationSpec.Strategy;

import java.time.Duration;
import java.util.Objects;

/**
 * The user's choices for one migration (from the VMMigration spec) that the policy weighs.
 *
 * @param maxDowntimeMillis        longest acceptable pause at switchover; also QEMU's {@code downtime-limit}
 * @param bandwidthBytesPerSecond  QEMU's {@code max-bandwidth}; 0 means no cap
 * @param completionTimeout        give up (or, where allowed, switch to post-copy) by then; null means never
 * @param autoConverge             QEMU's auto-converge is on, so the guest may be throttled
 */
public record MigrationSettings(
        Strategy strategy,
        long maxDowntimeMillis,
        long bandwidthBytesPerSecond,
        Duration completionTimeout,
        boolean autoConverge) {

    public MigrationSettings {
        Objects.requireNonNull(strategy, "strategy");
        if (maxDowntimeMillis <= 0) {
            throw new IllegalArgumentException("maxDowntimeMillis must be positive, got " + maxDowntimeMillis);
        }
        if (bandwidthBytesPerSecond < 0) {
            throw new IllegalArgumentException("bandwidthBytesPerSecond must be 0 (no cap) or positive, got "
                    + bandwidthBytesPerSecond);
        }
    }
}
