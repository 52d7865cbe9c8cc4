package io.kubevmm.node.engine;

import java.net.Socket;

/**
 * A TCP connection to a port of the guest, made through the emulator for one session (a
 * port-forward or ssh through the node API). Closing it ends the connection and takes away
 * whatever the emulator still held open for it. Idempotent.
 */
public interface GuestPort extends AutoCloseable {
    /** The connection; its streams carry the session's bytes. */
    Socket socket();

    /** The guest's port. */
    int guestPort();

    @Override
    void close();
}
