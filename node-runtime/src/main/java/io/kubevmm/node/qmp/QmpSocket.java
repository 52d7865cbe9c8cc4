package io.kubevmm.node.qmp;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Opening QEMU's QMP unix socket, which may not exist yet while QEMU starts. */
final class QmpSocket {
    // struct sockaddr_un holds 108 bytes, the terminating NUL included.
    private static final int MAX_PATH_BYTES = 107;
    private static final long FIRST_PAUSE_MILLIS = 5;
    private static final long MAX_PAUSE_MILLIS = 200;

    private QmpSocket() { }

    /**
     * Connects, retrying with a growing pause while the socket is missing or refuses, until the
     * deadline. Retrying covers the window between QEMU's start and its listen(); a stale socket
     * file of a QEMU that is gone refuses until the deadline and is then reported as refused.
     */
    static SocketChannel open(Path socket, Duration timeout, long deadline) throws QmpException {
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
            // Fail now: the kernel would refuse every attempt, and retrying would only hide why.
            throw new QmpException(null, null, "QMP socket path " + socket + " is longer than the "
                    + MAX_PATH_BYTES + " bytes a unix socket address holds; use a shorter state directory");
        }
        long pauseMillis = FIRST_PAUSE_MILLIS;
        while (true) {
            SocketChannel channel = null;
            IOException failure;
            try {
                channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                channel.connect(UnixDomainSocketAddress.of(socket));
                return channel;
            } catch (IOException e) {
                failure = e;
                closeQuietly(channel);
            }
            long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (leftMillis <= 0) {
                throw new QmpException(null, "cannot connect to QMP socket " + socket + " within "
                        + QmpMessages.describe(timeout) + ": " + failure.getMessage(), failure);
            }
            try {
                Thread.sleep(Math.min(pauseMillis, leftMillis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QmpException(null, "interrupted while connecting to QMP socket " + socket, e);
            }
            pauseMillis = Math.min(pauseMillis * 2, MAX_PAUSE_MILLIS);
        }
    }

    static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // Best effort: the descriptor is released either way.
            }
        }
    }
}
