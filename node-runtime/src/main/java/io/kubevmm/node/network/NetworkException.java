package io.kubevmm.node.network;

/**
 * A host networking command failed or its input was refused: says which command or which value,
 * and what the kernel (or the tool) answered.
 */
public class NetworkException extends RuntimeException {
    public NetworkException(String message) {
        super(message);
    }

    public NetworkException(String message, Throwable cause) {
        super(message, cause);
    }
}
