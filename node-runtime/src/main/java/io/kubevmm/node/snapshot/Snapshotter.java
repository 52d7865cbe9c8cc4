package io.kubevmm.node.snapshot;

import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.FullStateCapture;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.VmmInstance;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Takes, restores and deletes snapshots of this node's VMs: the engine does the VMM work, the
 * {@link SnapshotStore} keeps the result. What the VMSnapshot/VMRestore reconcilers call.
 *
 * <ul>
 *   <li>{@link #snapshotDisks(String, VmmInstance, SnapshotDetails)}: crash-consistent disk
 *       snapshot of a VM with a live emulator; the guest keeps running.</li>
 *   <li>{@link #snapshotDisks(String, VmConfig, SnapshotDetails)}: the same for a VM without one.</li>
 *   <li>{@link #snapshotFullState}: memory, vCPU/device state and disks at one instant.</li>
 *   <li>{@link #restore}: a paused emulator for a target VM (the snapshot's own = rollback, any
 *       other = clone), after every artifact is checksum-verified.</li>
 *   <li>{@link #delete}: artifacts removed, the VM's chain merged where nothing else needs a layer.</li>
 * </ul>
 * A snapshot that fails or is interrupted is never in the store; the VM keeps running.
 */
public final class Snapshotter {
    private final VmmEngine engine;
    private final SnapshotStore store;

    public Snapshotter(VmmEngine engine, SnapshotStore store) {
        this.engine = engine;
        this.store = store;
    }

    public SnapshotStore store() { return store; }

    public StoredSnapshot snapshotDisks(String name, VmmInstance vm, SnapshotDetails details) throws EngineException {
        return disks(name, details, vm.config(), () -> vm.snapshotDisks());
    }

    public StoredSnapshot snapshotDisks(String name, VmConfig stoppedVm, SnapshotDetails details) throws EngineException {
        return disks(name, details, stoppedVm, () -> engine.snapshotDisks(stoppedVm));
    }

    private interface DiskCapture {
        List<DiskChain> take() throws EngineException;
    }

    private StoredSnapshot disks(String name, SnapshotDetails details, VmConfig vm, DiskCapture capture) throws EngineException {
        require(details, SnapshotType.Disk);
        long started = System.nanoTime();
        try (PendingSnapshot pending = store.begin(name)) {
            List<DiskChain> chains = capture.take();
            pending.takeUefiVars(vm.capturedUefiVars());
            long durationMillis = (System.nanoTime() - started) / 1_000_000;
            // The guest never stopped: the emulator only drained in-flight I/O while switching layers.
            return pending.complete(details, chains, null, 0, durationMillis);
        }
    }

    public StoredSnapshot snapshotFullState(String name, VmmInstance vm, SnapshotDetails details) throws EngineException {
        return snapshotFullState(name, vm, details, () -> { });
    }

    /** {@code armed}: called once the snapshot's instant is fixed, while the memory is still being written. */
    public StoredSnapshot snapshotFullState(String name, VmmInstance vm, SnapshotDetails details, Runnable armed) throws EngineException {
        require(details, SnapshotType.FullState);
        try (PendingSnapshot pending = store.begin(name)) {
            FullStateCapture capture = vm.snapshotFullState(pending.stateFile(), armed);
            pending.takeUefiVars(vm.config().capturedUefiVars());
            return pending.complete(details, capture.disks(), capture.stateSha256(), capture.pauseMillis(), capture.durationMillis());
        }
    }

    /**
     * Starts {@code target} from snapshot {@code name}, paused: call {@link VmmInstance#resume()}.
     * The artifacts are verified while the emulator loads the state; nothing runs unless every
     * checksum matches. For a rollback, destroy the VM's current emulator first.
     * @throws SnapshotIntegrityException naming the corrupt or truncated file
     */
    public VmmInstance restore(String name, VmConfig target) throws EngineException {
        StoredSnapshot snapshot = store.get(name);
        CompletableFuture<Void> verified = CompletableFuture.runAsync(() -> {
            try {
                store.verify(snapshot);
            } catch (SnapshotIntegrityException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, r -> Thread.ofPlatform().daemon().name("verify-" + name).start(r));
        VmmInstance vm = null;
        try {
            vm = engine.restoreSnapshot(target, snapshot.image());
        } catch (EngineException e) {
            awaitVerified(verified, null); // a corrupt file explains a failed load better than QEMU does
            throw e;
        }
        awaitVerified(verified, vm);
        return vm;
    }

    private static void awaitVerified(CompletableFuture<Void> verified, VmmInstance started) throws EngineException {
        try {
            verified.get();
        } catch (ExecutionException e) {
            if (started != null) {
                started.destroy();
            }
            if (e.getCause() instanceof SnapshotIntegrityException integrity) {
                throw integrity;
            }
            throw new EngineException(Reason.StateUnusable, "cannot verify snapshot: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (started != null) {
                started.destroy();
            }
            throw new EngineException(Reason.OperationFailed, "interrupted while verifying the snapshot", e);
        }
    }

    /**
     * Deletes snapshot {@code name} and folds the layers only it kept into the VM's active disk
     * layer: pass the VM's running emulator, or its config when no emulator runs, or neither
     * when the VM is gone.
     * @return the VM's layer files merged away
     */
    public List<Path> delete(String name, VmmInstance runningVm, VmConfig stoppedVm) throws EngineException {
        store.delete(name);
        if (runningVm != null) {
            return runningVm.mergeUnsharedLayers();
        }
        if (stoppedVm != null) {
            return engine.mergeUnsharedLayers(stoppedVm);
        }
        return List.of();
    }

    private static void require(SnapshotDetails details, SnapshotType type) {
        if (details.type() != type) {
            throw new IllegalArgumentException("details say " + details.type() + " for a " + type + " snapshot");
        }
    }
}
