package io.kubevmm.node.engine;

/**
 * A VM's emulator process is alive but its monitor does not answer. The process is left running:
 * it may hold the only copy of the guest's memory, and a monitor that is busy (or still held by
 * someone) looks the same as a dead one from outside.
 */
public final class EmulatorUnreachableException extends EngineException {
    private final transient ProcessHandle process;

    public EmulatorUnreachableException(ProcessHandle process, String message, Throwable cause) {
        super(Reason.OperationFailed, message, cause);
        this.process = process;
    }

    /** The live process that did not answer. */
    public ProcessHandle process() { return process; }
}
