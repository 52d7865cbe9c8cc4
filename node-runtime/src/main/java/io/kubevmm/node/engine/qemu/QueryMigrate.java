package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.engine.MigrationStatus;

/**
 * QEMU's {@code query-migrate} reply read into the engine's neutral {@link MigrationSample} and
 * {@link MigrationStatus}: the one place that knows QEMU's migration states and units.
 */
public final class QueryMigrate {
    /** QEMU's page size when a reply omits it (the x86 target page). */
    private static final long DEFAULT_PAGE_SIZE = 4096;

    private QueryMigrate() { }

    /**
     * Reads the {@code return} member of a source-side {@code query-migrate}. Members QEMU leaves out
     * (no {@code ram} before setup ends, no {@code expected-downtime} once completed) count as 0.
     */
    public static MigrationSample sample(JsonNode reply, long elapsedMillis) {
        JsonNode ram = reply.path("ram");
        long pageSize = ram.path("page-size").asLong(DEFAULT_PAGE_SIZE);
        // ram.mbps is megabits per second (10^6 bits), not MiB/s.
        long transferRate = Math.round(ram.path("mbps").asDouble(0) * 1_000_000 / 8);
        return new MigrationSample(
                elapsedMillis,
                status(reply),
                ram.path("dirty-sync-count").asLong(0),
                ram.path("total").asLong(0),
                ram.path("transferred").asLong(0),
                ram.path("remaining").asLong(0),
                ram.path("dirty-pages-rate").asLong(0) * pageSize,
                transferRate,
                reply.path("cpu-throttle-percentage").asInt(0),
                reply.path("expected-downtime").asLong(0));
    }

    /** The status of a {@code query-migrate} reply (source or target side); no status member reads as none. */
    public static MigrationStatus status(JsonNode reply) {
        return status(reply.path("status").asText("none"));
    }

    /** QEMU's {@code MigrationStatus} word in neutral terms; a word this runtime does not know is UNKNOWN. */
    public static MigrationStatus status(String qemu) {
        if (qemu.startsWith("postcopy")) {
            return MigrationStatus.POSTCOPY; // postcopy-active, -paused, -recover, -recover-setup
        }
        return switch (qemu) {
            case "none" -> MigrationStatus.NONE;
            case "setup" -> MigrationStatus.SETUP;
            case "active" -> MigrationStatus.ACTIVE;
            case "device", "pre-switchover", "wait-unplug" -> MigrationStatus.SWITCHING_OVER;
            case "cancelling" -> MigrationStatus.CANCELLING;
            case "cancelled" -> MigrationStatus.CANCELLED;
            case "failed" -> MigrationStatus.FAILED;
            case "completed" -> MigrationStatus.COMPLETED;
            default -> MigrationStatus.UNKNOWN;
        };
    }
}
