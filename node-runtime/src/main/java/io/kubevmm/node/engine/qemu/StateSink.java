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
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Receives one state stream from QEMU on a unix socket and writes it to a file, hashing it on
 * the way: the SHA-256 of a multi-hundred-MiB state file is ready the moment the file is, instead
 * of costing a second read afterwards. The end of the stream (QEMU closing the socket) is the
 * proof the file is complete.
 */
final class StateSink implements AutoCloseable {
    private static final int BUFFER = 1 << 20;

    /** A complete stream: its size and hex SHA-256. */
    record Written(long bytes, String sha256) { }

    private final ServerSocketChannel server;
    private final Path socket;
    private final CompletableFuture<Written> done = new CompletableFuture<>();

    private StateSink(ServerSocketChannel server, Path socket) {
        this.server = server;
        this.socket = socket;
    }

    static StateSink open(Path socket, Path file) throws EngineException {
        try {
            Files.deleteIfExists(socket);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            StateSink sink = new StateSink(server, socket);
            Thread.ofPlatform().daemon().name("state-sink-" + file.getFileName()).start(() -> sink.receive(file));
            return sink;
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot listen on " + socket + " for state: " + e.getMessage(), e);
        }
    }

    /**
     * Writes on this thread and hashes on another, so the digest costs no time on the stream's
     * path (QEMU's migration thread never waits for SHA-256).
     */
    private void receive(Path file) {
        java.util.concurrent.BlockingQueue<ByteBuffer> toHash = new java.util.concurrent.ArrayBlockingQueue<>(16);
        CompletableFuture<String> digest = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("state-hash-" + file.getFileName()).start(() -> {
            try {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                for (ByteBuffer chunk; (chunk = toHash.take()).hasRemaining(); ) {
                    sha.update(chunk.array(), 0, chunk.limit());
                }
                digest.complete(HexFormat.of().formatHex(sha.digest()));
            } catch (NoSuchAlgorithmException | InterruptedException | RuntimeException e) {
                digest.completeExceptionally(e);
            }
        });
        try (SocketChannel in = server.accept();
             FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            long total = 0;
            while (true) {
                ByteBuffer buf = ByteBuffer.allocate(BUFFER);
                int n = 0;
                while (buf.hasRemaining() && (n = in.read(buf)) >= 0) {
                    // fill the chunk: fewer, larger writes and hash updates
                }
                buf.flip();
                if (buf.hasRemaining()) {
                    ByteBuffer chunk = buf.duplicate();
                    while (buf.hasRemaining()) {
                        total += out.write(buf);
                    }
                    toHash.put(chunk);
                }
                if (n < 0) {
                    break;
                }
            }
            toHash.put(ByteBuffer.allocate(0));
            done.complete(new Written(total, digest.get()));
        } catch (IOException | InterruptedException | ExecutionException e) {
            toHash.offer(ByteBuffer.allocate(0));
            done.completeExceptionally(e);
        }
    }

    Written await(Duration timeout) throws EngineException {
        try {
            return done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new EngineException(Reason.OperationFailed, "writing state failed: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new EngineException(Reason.OperationFailed, "state stream did not end within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(Reason.OperationFailed, "interrupted while writing state", e);
        }
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // socket file in the VM's state dir; the next sink replaces it
        }
        done.completeExceptionally(new IOException("closed"));
    }
}
