package io.kubevmm.node.migration;

import com.fasterxml.jackson.databind.JsonNode;

/** Placeholder until the policy branch lands; same shape. */
public record MigrationSample(long elapsedMillis, String status, long iterations, long totalBytes, long transferredBytes,
                              long remainingBytes, long dirtyRateBytesPerSecond, long transferRateBytesPerSecond,
                              int throttlePercent, long expectedDowntimeMillis) {
    public static MigrationSample fromQueryMigrate(JsonNode reply, long elapsedMillis) {
        JsonNode ram = reply.path("ram");
        long pageSize = ram.path("page-size").asLong(4096);
        return new MigrationSample(elapsedMillis, reply.path("status").asText("none"), ram.path("dirty-sync-count").asLong(),
                ram.path("total").asLong(), ram.path("transferred").asLong(), ram.path("remaining").asLong(),
                ram.path("dirty-pages-rate").asLong() * pageSize, (long) (ram.path("mbps").asDouble() * 1e6 / 8),
                reply.path("cpu-throttle-percentage").asInt(), reply.path("expected-downtime").asLong());
    }
}
