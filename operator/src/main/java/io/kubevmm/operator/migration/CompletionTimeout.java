package io.kubevmm.operator.migration;

import java.time.Duration;

/**
 * The completion timeout of a migration whose spec sets none, so that one that cannot converge
 * ends (aborted, the VM stays on the source) instead of running forever. It grows with the guest's
 * memory, as KubeVirt's does (150 s per GiB): the bulk pass alone sends all of it. The floor
 * (60 s by default) covers what does not scale with memory: connecting, the device state, a
 * slow first pass of a small guest over a capped link (256 MiB at 8 MiB/s is 32 s).
 *
 * @param perGiB time allowed per GiB of guest memory
 * @param floor  never less than this
 */
public record CompletionTimeout(Duration perGiB, Duration floor) {
    private static final double GIB = 1024.0 * 1024 * 1024;

    public CompletionTimeout {
        if (perGiB.isNegative() || floor.isNegative() || (perGiB.isZero() && floor.isZero())) {
            throw new IllegalArgumentException("kubevmm.operator.migration.completion-timeout-per-gib and -floor must not be "
                    + "negative and not both zero, got " + perGiB + " and " + floor);
        }
    }

    /** Seconds: the spec's value when set, else memory × per-GiB, at least the floor (rounded up). */
    public long seconds(Long specSeconds, long memoryBytes) {
        if (specSeconds != null) {
            return specSeconds;
        }
        long scaled = (long) Math.ceil(perGiB.toMillis() * (memoryBytes / GIB) / 1000.0);
        return Math.max(scaled, (long) Math.ceil(floor.toMillis() / 1000.0));
    }
}
