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

    /** Resets a guest that shut down or crashed so it boots again in the same process. */
    void reset() throws EngineException;

    /** Asks the guest to power off (ACPI power button). Returns at once. */
    void requestPowerDown() throws EngineException;

    /** Ends the process: QMP quit, then SIGKILL if it does not go. Idempotent. */
    void destroy();

    /** This emulator as the source of a live migration. */
    OutgoingMigration outgoing();

    /** This emulator as the target of a live migration (only for one made by {@link VmmEngine#createIncoming}). */
    IncomingMigration incoming();

    void addListener(Consumer<VmEvent> listener);
}
