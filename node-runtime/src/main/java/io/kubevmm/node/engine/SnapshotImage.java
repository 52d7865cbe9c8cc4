package io.kubevmm.node.engine;

import java.nio.file.Path;
import java.util.List;

/**
 * A snapshot as the engine restores it: optional machine state plus each disk's frozen chain.
 * The files stay untouched by a restore, so one image serves any number of restores and clones.
 *
 * @param stateFile machine state of a full-state snapshot; null for a disk-only snapshot (the guest boots)
 * @param disks     one chain per disk of the target VM, matched by disk name
 * @param uefiVars  the UEFI variables as of the snapshot (copied over the target's own), or null
 */
public record SnapshotImage(Path stateFile, List<DiskChain> disks, Path uefiVars) {
    public SnapshotImage {
        disks = List.copyOf(disks);
    }

    public SnapshotImage(Path stateFile, List<DiskChain> disks) {
        this(stateFile, disks, null);
    }

    public DiskChain disk(String name) {
        return disks.stream().filter(d -> d.disk().equals(name)).findFirst().orElse(null);
    }
}
