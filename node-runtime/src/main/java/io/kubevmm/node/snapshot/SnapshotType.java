package io.kubevmm.node.snapshot;

/** What a snapshot holds: disks only (crash-consistent), or disks plus memory, vCPU and device state. */
public enum SnapshotType {
    Disk, FullState
}
