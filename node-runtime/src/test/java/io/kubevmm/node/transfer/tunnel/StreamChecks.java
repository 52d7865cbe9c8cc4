package io.kubevmm.node.transfer.tunnel;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;
import io.kubevmm.node.files.Sha256;

/** Sends and receives checked byte streams, so a test can tell that every byte arrived unchanged. */
final class StreamChecks {
    private static final int CHUNK = 256 * 1024;

    /** How many bytes a stream carried and their SHA-256. */
    record Digest(long bytes, String sha256) { }

    private StreamChecks() { }

    /** Writes {@code total} pseudo-random bytes (from {@code seed}) and returns their digest. */
    static Digest sendRandom(ByteChannel channel, long total, long seed) throws IOException {
        MessageDigest sha = Sha256.digest();
        SplittableRandom random = new SplittableRandom(seed);
        byte[] chunk = new byte[CHUNK];
        long sent = 0;
        while (sent < total) {
            int length = (int) Math.min(CHUNK, total - sent);
            random.nextBytes(chunk);
            sha.update(chunk, 0, length);
            ByteBuffer buffer = ByteBuffer.wrap(chunk, 0, length);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            sent += length;
        }
        return new Digest(sent, HexFormat.of().formatHex(sha.digest()));
    }

    /** Reads until end of stream and returns the digest of what came. */
    static Digest receiveAll(ByteChannel channel) throws IOException {
        MessageDigest sha = Sha256.digest();
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
        long received = 0;
        int n;
        while ((n = channel.read(buffer)) >= 0) {
            sha.update(buffer.array(), 0, n);
            received += n;
            buffer.clear();
        }
        return new Digest(received, HexFormat.of().formatHex(sha.digest()));
    }

    /** Writes back everything read; when the peer half-closes, half-closes too. */
    static void echo(SocketChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
        while (channel.read(buffer) >= 0) {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }
        channel.shutdownOutput();
    }

    static void write(SocketChannel channel, String text) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** Writes like {@link #write} unless the other side already hung up, which is then no error. */
    static void offer(SocketChannel channel, String text) {
        try {
            write(channel, text);
        } catch (IOException hungUp) {
            // The tunnel refused faster than the test could write: also a refusal.
        }
    }

    /** Everything until end of stream, as text. */
    static String readToEnd(SocketChannel channel) throws IOException {
        StringBuilder text = new StringBuilder();
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        while (channel.read(buffer) >= 0) {
            text.append(new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII));
            buffer.clear();
        }
        return text.toString();
    }

    /** Connects like QEMU does to a unix socket. */
    static SocketChannel connectUnix(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return channel;
    }

    /** Whether the other side hung up: end of stream, or a reset because it left our bytes unread. */
    static boolean hungUp(SocketChannel channel) {
        try {
            return channel.read(ByteBuffer.allocate(1)) < 0;
        } catch (IOException e) {
            return true;
        }
    }
}
