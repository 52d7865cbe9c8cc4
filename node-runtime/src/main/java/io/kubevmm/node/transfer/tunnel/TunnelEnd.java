package io.kubevmm.node.transfer.tunnel;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/** One side of a piped byte stream: QEMU's unix socket, a TCP connection or a TLS connection. */
interface TunnelEnd extends Closeable {

    /** Reads what is available into {@code dst}, blocking for at least one byte; -1 at end of stream. */
    int read(ByteBuffer dst) throws IOException;

    /** Writes all remaining bytes of {@code src}. */
    void writeFully(ByteBuffer src) throws IOException;

    /** Tells the peer no more bytes come, while still reading what it sends back. */
    void shutdownOutput() throws IOException;

    /**
     * Closes at once, dropping unsent bytes: a TCP peer sees a reset, not an orderly end it could
     * take for a half-close, so a cut migration fails on both nodes instead of waiting.
     */
    void abort();

    /** Channels read into direct buffers without a copy; stream-based ends need heap arrays. */
    boolean prefersDirectBuffers();
}
