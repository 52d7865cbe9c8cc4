package io.kubevmm.node.snapshot;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.files.FileTree;
import io.kubevmm.node.files.Sha256;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The node's snapshot store: one directory per complete snapshot under {@code root}, holding
 * {@code manifest.json} and the artifacts it lists (the state file, each disk's qcow2 layers).
 *
 * <p>Atomicity: a snapshot is built in {@code root/.incomplete/<name>.<random>/} and becomes
 * visible only by renaming that directory to {@code root/<name>} once the manifest is written.
 * A snapshot interrupted at any point (node runtime killed, QEMU failed) is therefore never
 * listed; {@link #cleanupIncomplete()} removes its leftovers. Deletion renames first, too, so a
 * half-deleted snapshot is never seen either.
 *
 * <p>Disk layers are hard links to the VM's own (immutable, frozen) layer files: a snapshot
 * costs no copy, stays restorable after its VM is deleted, and a layer's link count tells
 * whether anything besides the VM still needs it (see
 * {@link io.kubevmm.node.engine.VmmInstance#mergeUnsharedLayers()}). The store must be on the
 * same file system as the VMs' state dirs for this; elsewhere layers are copied.
 *
 * <p>Retention: deleting a VM leaves its snapshots complete and restorable; a snapshot lives
 * until {@link #delete} is called for it.
 */
public final class SnapshotStore {
    static final String MANIFEST = "manifest.json";
    static final String STATE_FILE = "state.bin";
    /** A UEFI VM's variables as of the snapshot. */
    static final String UEFI_VARS_FILE = "uefi-vars.fd";
    private static final String INCOMPLETE = ".incomplete";
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._-]{0,252}");
    static final ObjectMapper JSON = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private final Path root;

    public SnapshotStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() { return root; }

    /** Where an artifact is, relative to the store ({@code <snapshot>/<file>}): what status shows instead of host paths. */
    public static String relativePath(StoredSnapshot snapshot, String file) {
        return snapshot.name() + "/" + file;
    }

    /**
     * Starts a snapshot named {@code name}: a private directory the artifacts are written into.
     * Refuses a name that is already a complete snapshot.
     */
    public PendingSnapshot begin(String name) throws EngineException {
        if (!NAME.matcher(name).matches()) {
            throw new EngineException(Reason.OperationFailed, "snapshot name '" + name
                    + "' is not a valid file name (letters, digits, '.', '_', '-'; example: db-before-upgrade)");
        }
        if (Files.exists(root.resolve(name))) {
            throw new EngineException(Reason.OperationFailed, "snapshot '" + name + "' already exists in this node's snapshot store");
        }
        try {
            Path dir = Files.createDirectories(root.resolve(INCOMPLETE)).resolve(name + "." + UUID.randomUUID().toString().substring(0, 8));
            Files.createDirectory(dir);
            return new PendingSnapshot(this, name, dir);
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot start snapshot '" + name + "' in " + root + ": " + e.getMessage(), e);
        }
    }

    /** Makes a pending snapshot complete: links layers, checksums everything, writes the manifest, renames. */
    StoredSnapshot complete(PendingSnapshot pending, SnapshotDetails details, List<DiskChain> disks,
                            String stateSha256, long pauseMillis, long durationMillis) throws EngineException {
        Path dir = pending.dir();
        try {
            List<SnapshotManifest.DiskEntry> entries = new ArrayList<>();
            List<SnapshotManifest.Artifact> artifacts = new ArrayList<>();
            for (DiskChain chain : disks) {
                List<String> names = new ArrayList<>();
                for (Path layer : chain.layers()) {
                    Path linked = link(layer, dir);
                    names.add(linked.getFileName().toString());
                    artifacts.add(new SnapshotManifest.Artifact(names.getLast(), Files.size(linked), Sha256.of(linked)));
                }
                entries.add(new SnapshotManifest.DiskEntry(chain.disk(), names,
                        chain.baseImage() == null ? null : chain.baseImage().toString()));
            }
            String stateFile = null;
            if (details.type() == SnapshotType.FullState) {
                Path state = pending.stateFile();
                if (!Files.exists(state)) {
                    throw new EngineException(Reason.StateUnusable, "full-state snapshot '" + pending.name() + "' has no state file " + state);
                }
                stateFile = STATE_FILE;
                artifacts.addFirst(new SnapshotManifest.Artifact(STATE_FILE, Files.size(state),
                        stateSha256 != null ? stateSha256 : Sha256.of(state)));
            }
            String uefiVars = null;
            Path vars = dir.resolve(UEFI_VARS_FILE);
            if (Files.exists(vars)) {
                uefiVars = UEFI_VARS_FILE;
                artifacts.add(new SnapshotManifest.Artifact(UEFI_VARS_FILE, Files.size(vars), Sha256.of(vars)));
            }
            long size = artifacts.stream().mapToLong(SnapshotManifest.Artifact::sizeBytes).sum();
            SnapshotManifest manifest = new SnapshotManifest(SnapshotManifest.FORMAT, pending.name(), details.vmName(), details.vmUid(),
                    details.vmSpec(), details.type(), entries, stateFile, artifacts, size, pauseMillis, durationMillis, details.createdAt(), uefiVars);
            Path tmp = dir.resolve(MANIFEST + ".tmp");
            JSON.writeValue(tmp.toFile(), manifest);
            Files.move(tmp, dir.resolve(MANIFEST), StandardCopyOption.ATOMIC_MOVE);
            Path target = root.resolve(pending.name());
            try {
                Files.move(dir, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                throw new EngineException(Reason.OperationFailed, "snapshot '" + pending.name() + "' was created meanwhile by someone else");
            }
            return new StoredSnapshot(target, manifest);
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot complete snapshot '" + pending.name() + "': " + e.getMessage(), e);
        }
    }

    private static Path link(Path file, Path dir) throws IOException {
        Path target = dir.resolve(file.getFileName().toString());
        try {
            Files.createLink(target, file);
        } catch (IOException | UnsupportedOperationException notSameFileSystem) {
            Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
        return target;
    }

    public Optional<StoredSnapshot> find(String name) throws EngineException {
        Path dir = root.resolve(name);
        Path manifest = dir.resolve(MANIFEST);
        if (!NAME.matcher(name).matches() || !Files.exists(manifest)) {
            return Optional.empty();
        }
        try {
            return Optional.of(new StoredSnapshot(dir, JSON.readValue(manifest.toFile(), SnapshotManifest.class)));
        } catch (IOException e) {
            throw new SnapshotIntegrityException(manifest, "snapshot '" + name + "': " + manifest + " is unreadable: " + e.getMessage());
        }
    }

    public StoredSnapshot get(String name) throws EngineException {
        return find(name).orElseThrow(() -> new EngineException(Reason.StateUnusable,
                "snapshot '" + name + "' does not exist in the snapshot store of this node"));
    }

    /** Every complete snapshot, oldest first. */
    public List<StoredSnapshot> list() throws EngineException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<StoredSnapshot> all = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.filter(d -> !d.getFileName().toString().startsWith(".")).toList()) {
                find(dir.getFileName().toString()).ifPresent(all::add);
            }
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot list " + root + ": " + e.getMessage(), e);
        }
        all.sort(Comparator.comparing(s -> s.manifest().createdAt()));
        return all;
    }

    /**
     * Checks every artifact's size and SHA-256 against the manifest.
     * @throws SnapshotIntegrityException naming the first missing, truncated or corrupt file
     */
    public void verify(StoredSnapshot snapshot) throws SnapshotIntegrityException {
        for (SnapshotManifest.Artifact artifact : snapshot.manifest().artifacts()) {
            Path file = snapshot.dir().resolve(artifact.file());
            // The artifact's name, not its host path: this message reaches VMRestore status.
            String what = "snapshot '" + snapshot.name() + "': artifact " + artifact.file();
            long size;
            try {
                size = Files.size(file);
            } catch (IOException e) {
                throw new SnapshotIntegrityException(file, what + " is missing");
            }
            if (size != artifact.sizeBytes()) {
                throw new SnapshotIntegrityException(file, what + " is " + (size < artifact.sizeBytes() ? "truncated" : "too long")
                        + ": " + size + " bytes, the manifest says " + artifact.sizeBytes());
            }
            String actual;
            try {
                actual = Sha256.of(file);
            } catch (IOException e) {
                throw new SnapshotIntegrityException(file, what + " is unreadable: " + e.getMessage());
            }
            if (!actual.equals(artifact.sha256())) {
                throw new SnapshotIntegrityException(file, what + " is corrupt: SHA-256 " + actual + ", the manifest says " + artifact.sha256());
            }
        }
    }

    /** Opens one artifact of a snapshot held elsewhere (another node's store). */
    public interface ArtifactSource {
        java.io.InputStream open(String file) throws IOException;
    }

    /**
     * Copies a snapshot from another node's store into this one: every artifact the manifest
     * lists, checked against its size and SHA-256 before the snapshot appears here (complete or
     * not at all, as for one taken here).
     * @throws SnapshotIntegrityException naming the file that arrived truncated or corrupt
     */
    public StoredSnapshot importSnapshot(SnapshotManifest manifest, ArtifactSource source) throws EngineException {
        try (PendingSnapshot pending = begin(manifest.name())) {
            Path dir = pending.dir();
            for (SnapshotManifest.Artifact artifact : manifest.artifacts()) {
                if (!NAME.matcher(artifact.file()).matches()) {
                    throw new SnapshotIntegrityException(dir.resolve("invalid"), "snapshot '" + manifest.name()
                            + "': the manifest names an artifact that is not a plain file name: " + artifact.file());
                }
                try (java.io.InputStream in = source.open(artifact.file())) {
                    Files.copy(in, dir.resolve(artifact.file()));
                } catch (IOException e) {
                    throw new EngineException(Reason.StateUnusable, "snapshot '" + manifest.name() + "': cannot fetch "
                            + artifact.file() + ": " + e.getMessage(), e);
                }
            }
            verify(new StoredSnapshot(dir, manifest));
            try {
                JSON.writeValue(dir.resolve(MANIFEST).toFile(), manifest);
                Path target = root.resolve(manifest.name());
                Files.move(dir, target, StandardCopyOption.ATOMIC_MOVE);
                StoredSnapshot stored = new StoredSnapshot(target, manifest);
                pending.published(stored);
                return stored;
            } catch (IOException e) {
                throw new EngineException(Reason.OperationFailed, "cannot publish imported snapshot '" + manifest.name() + "': " + e.getMessage(), e);
            }
        }
    }

    /**
     * Removes the snapshot's directory and artifacts. Layers the VM still uses keep their other
     * link (the VM's own); fold them away with {@code mergeUnsharedLayers} afterwards.
     * @return false when there was no such snapshot
     */
    public boolean delete(String name) throws EngineException {
        Path dir = root.resolve(name);
        if (!NAME.matcher(name).matches() || !Files.isDirectory(dir)) {
            return false;
        }
        try {
            Path doomed = Files.createDirectories(root.resolve(INCOMPLETE)).resolve(name + ".deleting." + UUID.randomUUID().toString().substring(0, 8));
            Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
            FileTree.delete(doomed);
            return true;
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot delete snapshot '" + name + "': " + e.getMessage(), e);
        }
    }

    /**
     * Removes what interrupted snapshots and deletions left behind. Call at node-runtime start,
     * before any snapshot begins.
     * @return the directories removed
     */
    public List<Path> cleanupIncomplete() throws EngineException {
        Path incomplete = root.resolve(INCOMPLETE);
        if (!Files.isDirectory(incomplete)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(incomplete)) {
            List<Path> removed = dirs.toList();
            for (Path dir : removed) {
                FileTree.delete(dir);
            }
            return removed;
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot clean up " + incomplete + ": " + e.getMessage(), e);
        }
    }

    void abort(PendingSnapshot pending) {
        try {
            FileTree.delete(pending.dir());
        } catch (IOException ignored) {
            // cleanupIncomplete() gets it later
        }
    }

}
