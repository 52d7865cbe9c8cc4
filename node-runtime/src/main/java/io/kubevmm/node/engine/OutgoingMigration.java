package io.kubevmm.node.engine;

import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;

/** The source side of a live migration of one running emulator. */
public interface OutgoingMigration {

    /**
     * Copies the guest's disks to the export served at {@code nbdSocket} and returns once they are
     * in sync. From then on every guest write reaches both copies before it completes, so the
     * target's disks are current whenever the guest stops.
     */
    void mirrorDisks(Path nbdSocket, Duration timeout) throws EngineException;

    /** Starts sending memory and device state to {@code socket}; returns at once. */
    void start(Path socket, MigrationTuning tuning) throws EngineException;

    /**
     * Starts sending memory and device state over {@code connection}, an established (and already
     * authenticated) socket to the target; returns at once. The emulator gets its own copy of the
     * descriptor; the caller closes its copy afterwards and must not read or write it any more.
     */
    void start(SocketChannel connection, MigrationTuning tuning) throws EngineException;

    /** Where the transfer stands now; {@code elapsedMillis} is stamped into the sample. */
    MigrationSample progress(long elapsedMillis) throws EngineException;

    /** Throttles harder at each following pass (auto-converge's per-pass increment, in percent). */
    void setThrottleIncrement(int percent) throws EngineException;

    /** Switches to post-copy: the guest resumes on the target and pulls the pages still missing. */
    void startPostcopy() throws EngineException;

    /** Aborts a migration that has not switched over; the guest keeps running here. */
    void cancel();

    /** Figures of a completed migration: the guest's pause at switchover, total time, bytes, passes. */
    MigrationTotals totals() throws EngineException;

    /** After completion: ends the disk mirrors without switching this emulator to the copies. */
    void finishDiskMirrors() throws EngineException;
}
