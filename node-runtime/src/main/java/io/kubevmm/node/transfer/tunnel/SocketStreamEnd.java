package io.kubevmm.node.transfer.tunnel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;

/** A socket used through its streams, as TLS sockets are; reads and writes heap buffers in place. */
final class SocketStreamEnd implements TunnelEnd {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    SocketStreamEnd(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
        if (n > 0) {
            dst.position(dst.position() + n);
        }
        return n;
    }

    @Override
    public void writeFully(ByteBuffer src) throws IOException {
        out.write(src.array(), src.arrayOffset() + src.position(), src.remaining());
        out.flush();
        src.position(src.limit());
    }

    @Override
    public void shutdownOutput() throws IOException {
        // TLS 1.3 sends close_notify and keeps the inbound direction open (half-close).
        socket.shutdownOutput();
    }

    @Override
    public void abort() {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException e) {
            // Best effort: the descriptor is released either way.
        }
    }

    @Override
    public boolean prefersDirectBuffers() {
        return false;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
