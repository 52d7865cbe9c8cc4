package io.kubevmm.node.engine;

/** What the source emulator measured for a completed migration. */
public record MigrationTotals(long downtimeMillis, long totalTimeMillis, long setupTimeMillis, long transferredBytes, long iterations) {
}
