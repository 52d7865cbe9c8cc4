package io.kubevmm.node.qmp;

/** A QMP command that failed, timed out, or could not be sent. The message names the command. */
public class QmpException extends Exception {
    private final String command;
    private final String errorClass;

    public QmpException(String command, String errorClass, String message) {
        super(message);
        this.command = command;
        this.errorClass = errorClass;
    }

    public QmpException(String command, String message, Throwable cause) {
        super(message, cause);
        this.command = command;
        this.errorClass = null;
    }

    /** The command that failed, or {@code null} for connection-level problems. */
    public String command() { return command; }

    /** QEMU's error class (e.g. {@code GenericError}), or {@code null} for I/O problems and timeouts. */
    public String errorClass() { return errorClass; }
}
