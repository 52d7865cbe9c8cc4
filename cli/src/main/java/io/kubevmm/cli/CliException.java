package io.kubevmm.cli;

/** An error the user can act on; its message is printed after {@code error: } and the exit code is 1. */
public class CliException extends RuntimeException {
    public CliException(String message) {
        super(message);
    }

    public CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
