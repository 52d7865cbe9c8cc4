package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Receives one state stream from QEMU on a unix socket and writes it to {@code partial}, then
 * renames it to {@code done} at the end of the stream (QEMU closing the socket proves the file
 * complete). QEMU connecting to a socket that already listens costs it nothing, where an
 * {@code exec:} URI forks the whole QEMU process inside the {@code migrate} command: with vCPUs
 * stopped for a disk switch, that fork was most of the pause (3–10 ms of 6–30).
 */
final class StateSink implements AutoCloseable {
    private static final int BUFFER = 1 << 20;

    private final ServerSocketChannel server;
    private final Path socket;

    private StateSink(ServerSocketChannel server, Path socket) {
        this.server = server;
        this.socket = socket;
    }

    static StateSink open(Path socket, Path partial, Path done) throws EngineException {
        try {
            Files.deleteIfExists(socket);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            StateSink sink = new StateSink(server, socket);
            Thread.ofPlatform().daemon().name("state-sink-" + done.getFileName()).start(() -> sink.receive(partial, done));
            return sink;
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot listen on " + socket + " for state: " + e.getMessage(), e);
        }
    }

    /** The URI QEMU's {@code migrate} sends to. */
    String uri() {
        return "unix:" + socket;
    }

    private void receive(Path partial, Path done) {
        try (SocketChannel in = server.accept()) {
            try (FileChannel out = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
                while (in.read(buf) >= 0) {
                    buf.flip();
                    while (buf.hasRemaining()) {
                        out.write(buf);
                    }
                    buf.clear();
                }
            }
            Files.move(partial, done, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // No rename: the hasher never sees the file complete, and the snapshot fails on QEMU's status or the timeout.
        }
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // a stale socket file is replaced by the next sink
        }
    }
}
