package io.kubevmm.node.engine;

import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/** The target side of a live migration: an emulator started empty, waiting for the guest's state. */
public interface IncomingMigration {

    /** Accepts the state stream on {@code socket}; {@code postcopy} must match the source. */
    default void listen(Path socket, boolean postcopy) throws EngineException {
        listen(socket, postcopy, 0);
    }

    /**
     * Accepts the state stream on {@code socket}, with {@code multifdChannels} more connections for
     * memory pages (0: one stream); both must match the source's {@link MigrationTuning}.
     */
    default void listen(Path socket, boolean postcopy, int multifdChannels) throws EngineException {
        listen(socket, postcopy, multifdChannels, false);
    }

    /**
     * As {@link #listen(Path, boolean, int)}; with {@code postcopyPreempt} the source sends the
     * pages this side faults on over one more connection to {@code socket} (it must match the
     * source's {@link MigrationTuning#postcopyPreempt()}).
     */
    void listen(Path socket, boolean postcopy, int multifdChannels, boolean postcopyPreempt) throws EngineException;

    /**
     * Prepares to take the state stream over a connection handed in later by {@link #receive};
     * {@code postcopy} must match the source. The emulator keeps waiting until then.
     */
    void expectConnection(boolean postcopy) throws EngineException;

    /**
     * Starts reading the state stream from {@code connection}, an established (and already
     * authenticated) socket: the emulator gets its own copy of the descriptor and uses the same
     * connection for its replies (post-copy page requests). The caller closes its copy afterwards
     * and must not read or write it any more.
     */
    void receive(SocketChannel connection) throws EngineException;

    /** Serves the (still empty) disks at {@code socket} so the source can mirror into them. */
    void exportDisks(Path socket) throws EngineException;

    /** Where the incoming stream stands. */
    MigrationStatus status() throws EngineException;

    /**
     * Once the guest runs here: makes its network interfaces announce their MAC addresses
     * (RARP), so the network delivers the guest's traffic to this node. False if the emulator
     * cannot (then only its own announcement at the end of the migration was sent).
     */
    boolean announce() throws EngineException;

    /** Stops serving the disks once the guest runs here. */
    void stopDiskExport();
}
