package io.kubevmm.node.transfer.tunnel;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.jboss.logging.Logger;

/**
 * The source node's end of a migration tunnel. The source QEMU connects to a local unix socket
 * ({@code migrate uri=unix:<path>}, or an NBD client for the disk mirror); each of its connections
 * is carried to the target node's {@link TunnelServer}, authenticated there with the migration's
 * secret, and piped both ways. Over plain TCP, {@link #connect} instead returns the authenticated
 * connection itself, for the caller to hand to QEMU.
 */
public final class TunnelClient {
    private static final Logger LOG = Logger.getLogger(TunnelClient.class);

    private TunnelClient() { }

    /**
     * Listens on {@code unixSocket} (a stale socket file there is replaced) and tunnels every
     * connection QEMU makes to it to {@code target}, as {@code channel} of {@code migrationId}.
     */
    public static Endpoint listen(Path unixSocket, InetSocketAddress target, String migrationId, String channel,
            byte[] secret, SSLContext tlsOrNull) throws IOException {
        TunnelHandshake.requireName("migration id", migrationId);
        TunnelHandshake.requireName("channel", channel);
        Files.deleteIfExists(unixSocket);
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(unixSocket));
        Endpoint endpoint = new Endpoint(unixSocket, listener, target, migrationId, channel, secret.clone(),
                TunnelTransport.of(tlsOrNull));
        Thread.ofVirtual().name("tunnel-client " + migrationId + "/" + channel).start(endpoint::acceptLoop);
        return endpoint;
    }

    /**
     * Opens one plain-TCP connection to {@code target}, authenticates it as {@code channel} of
     * {@code migrationId} and returns it, for the caller to hand to QEMU (no relay: the bytes go
     * from QEMU to the socket directly). The caller owns the connection.
     *
     * @throws IOException naming the target and the reason: refused (wrong secret, unknown
     *                     migration, the target could not take it), unreachable, timed out
     */
    public static SocketChannel connect(InetSocketAddress target, String migrationId, String channel, byte[] secret)
            throws IOException {
        TunnelHandshake.requireName("migration id", migrationId);
        TunnelHandshake.requireName("channel", channel);
        String where = target.getHostString() + ":" + target.getPort();
        PeerLink link = null;
        try {
            link = new TunnelTransport.PlainTcp().connect(target, TunnelHandshake.TIMEOUT);
            long deadline = System.nanoTime() + TunnelHandshake.TIMEOUT.toNanos();
            TunnelHandshake.authenticate(link.socket(), migrationId, channel, secret, deadline);
            return ((ChannelEnd) link.data()).channel();
        } catch (TunnelRefusedException e) {
            closeQuietly(link);
            throw new TunnelRefusedException("target " + where + " refused migration " + migrationId + " channel " + channel
                    + ": " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            closeQuietly(link);
            throw new IOException("cannot open a connection for migration " + migrationId + " channel " + channel
                    + " to " + where + ": " + e, e);
        }
    }

    private static void closeQuietly(PeerLink link) {
        if (link != null) {
            link.closeQuietly();
        }
    }

    /** A listening source socket and the tunnels behind it; closing it cuts them and removes the socket file. */
    public static final class Endpoint implements Closeable {
        private final Path unixSocket;
        private final ServerSocketChannel listener;
        private final InetSocketAddress target;
        private final String migrationId;
        private final String channel;
        private final byte[] secret;
        private final TunnelTransport transport;
        private final OpenPipes pipes = new OpenPipes();
        private final LongAdder bytesSent = new LongAdder();
        private final LongAdder bytesReceived = new LongAdder();
        private volatile String lastError;
        private volatile boolean closed;

        private Endpoint(Path unixSocket, ServerSocketChannel listener, InetSocketAddress target, String migrationId,
                String channel, byte[] secret, TunnelTransport transport) {
            this.unixSocket = unixSocket;
            this.listener = listener;
            this.target = target;
            this.migrationId = migrationId;
            this.channel = channel;
            this.secret = secret;
            this.transport = transport;
        }

        /** The unix socket QEMU connects to. */
        public Path socket() {
            return unixSocket;
        }

        /** Bytes QEMU sent into the tunnel, all connections. */
        public long bytesSent() {
            return bytesSent.sum();
        }

        /** Bytes that came back from the target to QEMU, all connections. */
        public long bytesReceived() {
            return bytesReceived.sum();
        }

        /** Why the latest failed connection could not be tunnelled (refused by the target, unreachable); null if none failed. */
        public String lastError() {
            return lastError;
        }

        /** Connections currently tunnelled. */
        public int openConnections() {
            return pipes.size();
        }

        /**
         * Lets the connections QEMU opened run to their end: no new one is accepted, and this waits
         * until each has finished in both directions (the target's QEMU closed its end once it had
         * read everything), at most {@code timeout}. The source QEMU says completed once it has
         * written its last bytes, which may still be on their way then, each multifd channel with
         * its own; {@link #close()} right away would cut them and leave the target waiting for
         * them. False if some were still open at the timeout ({@link #close()} cuts those).
         */
        public boolean drain(java.time.Duration timeout) throws InterruptedException {
            closed = true;
            try {
                listener.close();
            } catch (IOException e) {
                LOG.debugf("Closing tunnel socket %s: %s", unixSocket, e);
            }
            return pipes.awaitFinished(timeout);
        }

        @Override
        public void close() {
            closed = true;
            try {
                listener.close();
            } catch (IOException e) {
                LOG.debugf("Closing tunnel socket %s: %s", unixSocket, e);
            }
            pipes.closeAll();
            try {
                Files.deleteIfExists(unixSocket);
            } catch (IOException e) {
                LOG.warnf("Cannot remove tunnel socket %s: %s", unixSocket, e.toString());
            }
        }

        private void acceptLoop() {
            while (!closed) {
                try {
                    SocketChannel qemu = listener.accept();
                    Thread.ofVirtual().name("tunnel-dial " + migrationId + "/" + channel).start(() -> tunnel(qemu));
                } catch (IOException e) {
                    if (!closed) {
                        LOG.warnf("Tunnel socket %s cannot accept: %s", unixSocket, e.toString());
                    }
                }
            }
        }

        private void tunnel(SocketChannel qemu) {
            ChannelEnd qemuEnd = new ChannelEnd(qemu);
            PeerLink link = null;
            try {
                link = transport.connect(target, TunnelHandshake.TIMEOUT);
                long deadline = System.nanoTime() + TunnelHandshake.TIMEOUT.toNanos();
                TunnelHandshake.authenticate(link.socket(), migrationId, channel, secret, deadline);
            } catch (TunnelRefusedException e) {
                fail(qemuEnd, link, "target " + describeTarget() + " refused migration " + migrationId
                        + " channel " + channel + ": " + e.getMessage());
                return;
            } catch (SSLException e) {
                fail(qemuEnd, link, "TLS with target " + describeTarget() + " failed for migration " + migrationId
                        + " channel " + channel + " (do both nodes hold certificates of the same CA?): " + e.getMessage());
                return;
            } catch (IOException | RuntimeException e) {
                fail(qemuEnd, link, "cannot open tunnel for migration " + migrationId + " channel " + channel
                        + " to " + describeTarget() + ": " + e);
                return;
            }
            if (!pipes.start(new Pipe(qemuEnd, link.data(), bytesSent, bytesReceived), "tunnel " + migrationId + "/" + channel)) {
                fail(qemuEnd, link, "tunnel endpoint " + unixSocket + " was closed");
            }
        }

        /** Hangs up on QEMU so that its migration fails now rather than waiting on a dead stream. */
        private void fail(ChannelEnd qemuEnd, PeerLink link, String reason) {
            lastError = reason;
            LOG.warn(reason);
            try {
                qemuEnd.close();
            } catch (IOException e) {
                // Best effort: the descriptor is released either way.
            }
            if (link != null) {
                link.closeQuietly();
            }
        }

        private String describeTarget() {
            return target.getHostString() + ":" + target.getPort();
        }
    }
}
