package io.kubevmm.node.engine;

import java.nio.file.Path;

/** The target side of a live migration: an emulator started empty, waiting for the guest's state. */
public interface IncomingMigration {

    /** Accepts the state stream on {@code socket}; {@code postcopy} must match the source. */
    void listen(Path socket, boolean postcopy) throws EngineException;

    /** Serves the (still empty) disks at {@code socket} so the source can mirror into them. */
    void exportDisks(Path socket) throws EngineException;

    /** QEMU's incoming status: {@code active}, {@code postcopy-active}, {@code completed}, {@code failed}, ... */
    String status() throws EngineException;

    /** Stops serving the disks once the guest runs here. */
    void stopDiskExport();
}
