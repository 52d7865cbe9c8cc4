package io.kubevmm.node.snapshot;

import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.EngineException;

import java.nio.file.Path;
import java.util.List;

/**
 * A snapshot being written: artifacts go into {@link #dir()}, which nobody lists as a snapshot
 * until {@link #complete} renames it into the store. Close it to abort (a no-op once complete).
 */
public final class PendingSnapshot implements AutoCloseable {
    private final SnapshotStore store;
    private final String name;
    private final Path dir;
    private StoredSnapshot completed;

    PendingSnapshot(SnapshotStore store, String name, Path dir) {
        this.store = store;
        this.name = name;
        this.dir = dir;
    }

    public String name() { return name; }

    public Path dir() { return dir; }

    /** Where the machine state of a FullState snapshot (or a suspend to disk) is written. */
    public Path stateFile() { return dir.resolve(SnapshotStore.STATE_FILE); }

    /**
     * Takes the UEFI variables an engine captured at the snapshot's instant
     * ({@link io.kubevmm.node.engine.VmConfig#capturedUefiVars}) into the snapshot; nothing when
     * there are none.
     */
    public void takeUefiVars(Path captured) throws EngineException {
        try {
            if (java.nio.file.Files.exists(captured)) {
                java.nio.file.Files.move(captured, dir.resolve(SnapshotStore.UEFI_VARS_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (java.io.IOException e) {
            throw new EngineException(EngineException.Reason.OperationFailed, "cannot keep the UEFI variables in snapshot '" + name
                    + "': " + e.getMessage(), e);
        }
    }

    /**
     * Links the disks' layers in, checksums every artifact (the state file's SHA-256 may be given
     * when it was computed while writing), writes the manifest and publishes the snapshot.
     */
    public StoredSnapshot complete(SnapshotDetails details, List<DiskChain> disks, String stateSha256,
                                   long pauseMillis, long durationMillis) throws EngineException {
        completed = store.complete(this, details, disks, stateSha256, pauseMillis, durationMillis);
        return completed;
    }

    /** Marks a pending snapshot published by other means (an import), so closing keeps it. */
    void published(StoredSnapshot stored) {
        completed = stored;
    }

    @Override
    public void close() {
        if (completed == null) {
            store.abort(this);
        }
    }
}
