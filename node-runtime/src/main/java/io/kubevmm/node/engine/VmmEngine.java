package io.kubevmm.node.engine;

import java.util.Optional;

/**
 * A virtual machine monitor that can run guests on this node. One implementation today (QEMU);
 * the lifecycle and controller code depend only on this interface.
 */
public interface VmmEngine {

    Accelerator accelerator();

    /** The emulator's version, e.g. {@code 7.2.22}. */
    String version();

    /**
     * Whether a post-copy migration can send the target's page requests over a connection of
     * their own, so they do not queue behind the background pages (the source opens that second
     * connection itself).
     */
    default boolean separatesPostcopyRequests() { return false; }

    /** The emulator features this engine uses on this node (for QEMU: migration capabilities), for VMNode status. */
    default java.util.List<String> capabilities() { return java.util.List.of(); }

    /** How guests are confined on this node (sandbox, user), in words for logs and VMNode status. */
    default String confinement() { return "not confined"; }

    /** Whether guests run as an unprivileged user rather than the node runtime's own. */
    default boolean runsUnprivileged() { return false; }

    /**
     * Whether an established connection can be handed to the emulator itself
     * ({@link OutgoingMigration#start(java.nio.channels.SocketChannel, MigrationTuning)},
     * {@link IncomingMigration#receive}); when not, the node runtime relays the stream.
     */
    default boolean takesConnections() { return false; }

    /**
     * Starts a VMM process for the guest with vCPUs halted: memory allocated, kernel loaded,
     * devices attached. Disks that do not exist yet are created.
     */
    VmmInstance create(VmConfig config) throws EngineException;

    /**
     * Starts a VMM process that loads the full machine state saved by
     * {@link VmmInstance#saveState}; the guest stays paused until {@link VmmInstance#resume}.
     */
    VmmInstance restore(VmConfig config) throws EngineException;

    /**
     * Starts a VMM process for a guest arriving by live migration: devices as for
     * {@link #create}, empty memory, waiting on {@link VmmInstance#incoming()}. The guest runs
     * as soon as its state has arrived, in the run state it had on the source.
     */
    VmmInstance createIncoming(VmConfig config) throws EngineException;

    /**
     * Disk snapshot of a VM with no emulator process: each disk's top layer is frozen and a new
     * empty overlay becomes the layer the VM boots from. Same result as
     * {@link VmmInstance#snapshotDisks()}.
     */
    java.util.List<DiskChain> snapshotDisks(VmConfig config) throws EngineException;

    /**
     * Starts a VMM process for {@code target} from a snapshot: each disk gets a fresh overlay on
     * the snapshot's frozen chain (the chain's files are linked into the target's state dir, never
     * written, so the snapshot stays reusable); with a state file the machine state is loaded, else
     * the guest will boot. The guest stays paused until {@link VmmInstance#resume}.
     *
     * <p>Rollback is {@code target} = the snapshot's own VM (its previous overlays are discarded);
     * a clone is a {@code target} with its own id, state dir and MAC address. A clone also gets a
     * new VM generation ID so the guest can tell it was copied. Any disk of the target without a
     * chain in the image is refused.
     */
    VmmInstance restoreSnapshot(VmConfig target, SnapshotImage image) throws EngineException;

    /** {@link VmmInstance#mergeUnsharedLayers()} for a VM with no emulator process (qemu-img rebase). */
    java.util.List<java.nio.file.Path> mergeUnsharedLayers(VmConfig config) throws EngineException;

    /**
     * Re-attaches to a VMM process left running by an earlier node runtime, found through the
     * VM's state dir. Empty when no live process belongs to this VM. Only for processes nothing
     * in this node runtime holds: a monitor serves one client, so a second connection to an
     * emulator this runtime already drives gets no answer.
     *
     * @throws EmulatorUnreachableException the VM's process is alive but its monitor does not
     *         answer; it is left running (never killed on a guess)
     */
    Optional<VmmInstance> adopt(VmConfig config) throws EmulatorUnreachableException;

    /** RAM the emulator will actually give the guest (may differ from the request; see workarounds). */
    long effectiveMemoryBytes(VmConfig config);

    /** Human-readable workarounds applied to this guest because of the accelerator or emulator version. */
    java.util.List<String> workarounds(VmConfig config);
}
