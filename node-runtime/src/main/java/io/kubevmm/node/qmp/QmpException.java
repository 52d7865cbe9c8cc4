package io.kubevmm.node.qmp;

/**
 * A QMP command that QEMU rejected, that timed out, or that could not be sent or answered because
 * the connection ended. The message names the command and says why, ready to show to a user.
 */
public class QmpException extends Exception {
    private final String command;
    private final String errorClass;

    /** A failure without an underlying exception; {@code errorClass} is QEMU's, or null if QEMU did not answer. */
    public QmpException(String command, String errorClass, String message) {
        super(message);
        this.command = command;
        this.errorClass = errorClass;
    }

    /** A failure caused by an I/O or protocol problem rather than by QEMU's answer. */
    public QmpException(String command, String message, Throwable cause) {
        super(message, cause);
        this.command = command;
        this.errorClass = null;
    }

    /** The command that failed, or {@code null} for connection-level problems such as a failed connect. */
    public String command() {
        return command;
    }

    /**
     * QEMU's error class ({@code GenericError}, {@code CommandNotFound}, {@code DeviceNotFound}, ...),
     * or {@code null} when QEMU gave no answer: I/O problems, timeouts, a closed connection.
     */
    public String errorClass() {
        return errorClass;
    }
}
