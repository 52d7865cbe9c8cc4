package io.kubevmm.node.migration;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One look at a running migration from the source side, as QEMU's {@code query-migrate} reports it,
 * in bytes and milliseconds so the policy never deals with QEMU's units.
 *
 * @param elapsedMillis               time since {@code migrate} was issued
 * @param status                      QEMU's migration status: {@code setup}, {@code active},
 *                                    {@code postcopy-active}, {@code completed}, {@code failed}, {@code cancelled}, ...
 * @param iterations                  bitmap syncs so far ({@code ram.dirty-sync-count}): 1 during the first
 *                                    (bulk) pass, one more at the end of every pass
 * @param dirtyRateBytesPerSecond     how fast the guest dirtied memory during the last pass
 * @param transferRateBytesPerSecond  how fast pages went out recently
 * @param throttlePercent             how much auto-converge currently slows the guest's vCPUs
 * @param expectedDowntimeMillis      QEMU's estimate of the pause if it switched over now; 0 when unknown
 */
public record MigrationSample(
        long elapsedMillis,
        String status,
        long iterations,
        long totalBytes,
        long transferredBytes,
        long remainingBytes,
        long dirtyRateBytesPerSecond,
        long transferRateBytesPerSecond,
        int throttlePercent,
        long expectedDowntimeMillis) {

    /** QEMU's page size when a reply omits it (the x86 target page). */
    private static final long DEFAULT_PAGE_SIZE = 4096;

    /**
     * Reads the {@code return} member of a source-side {@code query-migrate}. Members QEMU leaves out
     * (no {@code ram} before setup ends, no {@code expected-downtime} once completed) count as 0.
     */
    public static MigrationSample fromQueryMigrate(JsonNode reply, long elapsedMillis) {
        JsonNode ram = reply.path("ram");
        long pageSize = ram.path("page-size").asLong(DEFAULT_PAGE_SIZE);
        // ram.mbps is megabits per second (10^6 bits), not MiB/s.
        long transferRate = Math.round(ram.path("mbps").asDouble(0) * 1_000_000 / 8);
        return new MigrationSample(
                elapsedMillis,
                reply.path("status").asText("none"),
                ram.path("dirty-sync-count").asLong(0),
                ram.path("total").asLong(0),
                ram.path("transferred").asLong(0),
                ram.path("remaining").asLong(0),
                ram.path("dirty-pages-rate").asLong(0) * pageSize,
                transferRate,
                reply.path("cpu-throttle-percentage").asInt(0),
                reply.path("expected-downtime").asLong(0));
    }

    /** True once QEMU has switched to post-copy: the guest runs on the target from then on. */
    public boolean inPostCopy() {
        return status.startsWith("postcopy");
    }
}
