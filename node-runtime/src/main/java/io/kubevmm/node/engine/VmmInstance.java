package io.kubevmm.node.engine;

import java.util.function.Consumer;

/** One running VMM process. Operations block until the emulator confirms them. */
public interface VmmInstance {

    VmConfig config();

    long pid();

    RunState runState();

    /** Starts vCPUs of a created guest, or continues a paused one. */
    void resume() throws EngineException;

    /** Pauses vCPUs in place; memory stays allocated. */
    void pause() throws EngineException;

    /**
     * Pauses the guest and writes its full state (memory, vCPUs, devices) to
     * {@link VmConfig#suspendStateFile()}, then ends the process so its memory is freed.
     * @return bytes written
     */
    long saveState() throws EngineException;

    /**
     * Takes a crash-consistent, copy-on-write snapshot of every disk while the guest runs: each
     * disk's current top layer is frozen and the guest continues writing into a new overlay (all
     * disks switch in one emulator transaction; the guest is not paused beyond the emulator's own
     * drain of in-flight I/O). The frozen layers stay in the VM's state dir until
     * {@link #mergeUnsharedLayers()} folds away those no snapshot references any more.
     * @return one chain per disk, top (the frozen layer) first; empty for a VM without disks
     */
    java.util.List<DiskChain> snapshotDisks() throws EngineException;

    /**
     * Takes a full-state snapshot with copy-on-write memory capture: vCPUs stop only while the
     * disks switch to new overlays and write-protection is armed, then the guest runs on while its
     * memory streams to {@code stateFile}. Blocks until the file is complete. On failure the
     * guest keeps running (its disks may have one more layer, which is harmless).
     */
    FullStateCapture snapshotFullState(java.nio.file.Path stateFile) throws EngineException;

    /**
     * The same, calling {@code armed} as soon as the snapshot's instant is fixed (copy-on-write
     * armed, the guest running again), before the memory has been written: a guest whose file
     * systems were frozen for the capture is thawed there, not seconds later. An engine that
     * cannot tell calls it once the capture is complete.
     */
    default FullStateCapture snapshotFullState(java.nio.file.Path stateFile, Runnable armed) throws EngineException {
        FullStateCapture capture = snapshotFullState(stateFile);
        armed.run();
        return capture;
    }

    /**
     * Folds into the active overlay the frozen layers that no snapshot references any more (a
     * layer file whose only link is the VM's own), while the guest runs. Called after a snapshot
     * of this VM was deleted, or after a failed snapshot. Layers still shared stay in the chain.
     * @return the layer files removed
     */
    java.util.List<java.nio.file.Path> mergeUnsharedLayers() throws EngineException;

    /** Resets a guest that shut down or crashed so it boots again in the same process. */
    void reset() throws EngineException;

    /** Asks the guest to power off (ACPI power button). Returns at once. */
    void requestPowerDown() throws EngineException;

    /**
     * Connects to TCP port {@code guestPort} of the guest from this node (for a port-forward or ssh
     * session through the node API). Nothing stays reachable by others beyond what the emulator
     * needs to make the connection.
     * @throws EngineException when the VM has no network device, the port is not 1-65535, the
     *                         emulator refuses, or the connection is not made within {@code timeout}
     */
    GuestPort openGuestPort(int guestPort, java.time.Duration timeout) throws EngineException;

    /** Ends the process: QMP quit, then SIGKILL if it does not go. Idempotent. */
    void destroy();

    /** This emulator as the source of a live migration. */
    OutgoingMigration outgoing();

    /** This emulator as the target of a live migration (only for one made by {@link VmmEngine#createIncoming}). */
    IncomingMigration incoming();

    /**
     * Whether the guest has its end of the guest agent's port open now ({@link VmConfig#guestAgentSocket}):
     * false when the machine has no such channel or nobody in the guest opened it. Later changes
     * come as {@link VmEvent.GuestAgentChannel} events.
     */
    default boolean guestAgentChannelOpen() {
        return false;
    }

    void addListener(Consumer<VmEvent> listener);
}
