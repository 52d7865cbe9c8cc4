package io.kubevmm.node.snapshot;

import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.SnapshotImage;

import java.nio.file.Path;
import java.util.List;

/** A complete snapshot in the store: its directory and manifest. */
public record StoredSnapshot(Path dir, SnapshotManifest manifest) {

    public String name() { return manifest.name(); }

    /** The machine state file, or null for a disk-only snapshot. */
    public Path stateFile() {
        return manifest.stateFile() == null ? null : dir.resolve(manifest.stateFile());
    }

    /** What the engine restores from ({@link io.kubevmm.node.engine.VmmEngine#restoreSnapshot}). */
    public SnapshotImage image() {
        List<DiskChain> disks = manifest.disks().stream()
                .map(d -> new DiskChain(d.disk(), d.layers().stream().map(dir::resolve).toList(),
                        d.baseImage() == null ? null : Path.of(d.baseImage())))
                .toList();
        return new SnapshotImage(stateFile(), disks, manifest.uefiVars() == null ? null : dir.resolve(manifest.uefiVars()));
    }
}
