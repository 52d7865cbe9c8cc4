package io.kubevmm.node.engine;

/** A VMM operation that failed; the message says what was attempted and why it failed. */
public class EngineException extends Exception {
    private final Reason reason;

    public enum Reason {
        /** A file the VM needs (kernel, initrd, base image) is missing or unreadable. */
        MissingFile,
        /** The emulator process exited while starting; the message carries its stderr tail. */
        EmulatorFailed,
        /** The emulator refused or failed an operation. */
        OperationFailed,
        /** Saved state is missing or unusable. */
        StateUnusable,
        /** A Secret the spec names (cloud-init user-data) is missing, unreadable or unusable. */
        SecretUnavailable,
        /** The guest's network on this node (overlay bridge, tap, DHCP) could not be set up. */
        NetworkUnavailable
    }

    public EngineException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public EngineException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() { return reason; }
}
