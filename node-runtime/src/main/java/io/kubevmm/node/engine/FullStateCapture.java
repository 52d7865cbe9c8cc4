package io.kubevmm.node.engine;

import java.nio.file.Path;
import java.util.List;

/**
 * What a full-state snapshot captured: memory, vCPU and device state in {@code stateFile} and
 * every disk frozen at the same instant.
 *
 * @param disks          each disk's frozen chain (see {@link DiskChain})
 * @param stateFile      the complete state stream, loadable by {@link VmmEngine#restoreSnapshot}
 * @param stateBytes     size of {@code stateFile}
 * @param stateSha256    hex SHA-256 of {@code stateFile}, computed while it was written
 * @param pauseMillis    how long the guest's vCPUs were stopped (emulator STOP to RESUME events)
 * @param durationMillis from the request until the state file was complete
 */
public record FullStateCapture(List<DiskChain> disks, Path stateFile, long stateBytes, String stateSha256,
                               long pauseMillis, long durationMillis) {
    public FullStateCapture {
        disks = List.copyOf(disks);
    }
}
