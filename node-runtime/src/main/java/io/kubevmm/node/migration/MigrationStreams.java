package io.kubevmm.node.migration;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.IncomingMigration;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.transfer.tunnel.TunnelClient;
import io.kubevmm.node.transfer.tunnel.TunnelServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;

/**
 * How a migration's memory stream crosses the tunnel, for both ends and the benchmark alike.
 * Over plain TCP, when this JVM can pass descriptors, the authenticated connection itself is
 * handed to QEMU on each side (hand-off): no byte of the stream passes through this process, and
 * QEMU's post-copy return path uses the same connection. Otherwise (TLS, or no descriptor
 * passing) the relay carries it: QEMU, unix socket, this process, TCP, the peer's process, unix
 * socket, QEMU. Each side decides alone; the bytes on the wire are the same either way. The disk
 * mirror (NBD) channel is always relayed.
 */
public final class MigrationStreams {
    /** The tunnel channel of the memory stream. */
    public static final String CHANNEL = "migration";

    private MigrationStreams() { }

    /** Whether the memory stream is handed to the emulator, for a tunnel with this TLS context (null: plain TCP). */
    public static boolean handOff(SSLContext tlsOrNull, VmmEngine engine) {
        return tlsOrNull == null && engine.takesConnections();
    }

    /** The multifd channels a migration asks for ({@code spec.multifdChannels}); 0: one stream. */
    public static int multifdChannels(io.kubevmm.api.v1alpha1.VMMigrationSpec spec) {
        return spec.getMultifdChannels() == null ? 0 : Math.max(0, spec.getMultifdChannels());
    }

    /**
     * Whether the engine sends a post-copy migration's page requests over a connection of their
     * own ({@link VmmEngine#separatesPostcopyRequests}, where the emulator can): for strategy PostCopy, which always switches, and no multifd. Not for Auto: most of
     * those converge in pre-copy, and the preempt channel would cost them the hand-off of the
     * stream (a second connection is always relayed). Both nodes decide by this rule, from the
     * same spec, and tell their emulator.
     */
    public static boolean postcopyPreempt(io.kubevmm.api.v1alpha1.VMMigrationSpec spec, VmmEngine engine) {
        return spec.getStrategy() == io.kubevmm.api.v1alpha1.VMMigrationSpec.Strategy.PostCopy && multifdChannels(spec) == 0
                && engine.separatesPostcopyRequests();
    }

    /**
     * Whether the source QEMU opens more connections than the main stream (multifd channels, the
     * post-copy preempt channel): each one goes through the tunnel relay, authenticated like the
     * main stream, so such a migration is relayed on both nodes, never handed off.
     */
    public static boolean ownConnections(io.kubevmm.api.v1alpha1.VMMigrationSpec spec, VmmEngine engine) {
        return multifdChannels(spec) > 0 || postcopyPreempt(spec, engine);
    }

    /** For the log line of each end: the connections besides the main stream, "" if none. */
    public static String ownConnectionsNote(io.kubevmm.api.v1alpha1.VMMigrationSpec spec, VmmEngine engine) {
        int channels = multifdChannels(spec);
        return channels > 0 ? " with " + channels + " multifd channels"
                : postcopyPreempt(spec, engine) ? " with a post-copy preempt channel" : "";
    }

    /** A word for logs and the benchmark: "hand-off" or "relay". */
    public static String mode(boolean handOff) {
        return handOff ? "hand-off" : "relay";
    }

    /**
     * Target side: readies the incoming emulator and returns the tunnel destination of the memory
     * stream. With hand-off the emulator waits ({@code -incoming defer}) until an authenticated
     * connection arrives and is passed to it; otherwise it listens on {@code relaySocket}.
     */
    public static TunnelServer.Destination incoming(IncomingMigration in, Path relaySocket, boolean postcopy, boolean handOff)
            throws EngineException {
        return incoming(in, relaySocket, postcopy, handOff, 0);
    }

    /**
     * As {@link #incoming(IncomingMigration, Path, boolean, boolean)}, with {@code multifdChannels}
     * more connections for memory pages: those are always relayed (each one is a connection the
     * source QEMU opens, tunnelled and authenticated like the main stream, and the relay connects
     * each to the target QEMU's socket).
     */
    public static TunnelServer.Destination incoming(IncomingMigration in, Path relaySocket, boolean postcopy, boolean handOff,
                                                    int multifdChannels) throws EngineException {
        return incoming(in, relaySocket, postcopy, handOff, multifdChannels, false);
    }

    /**
     * As {@link #incoming(IncomingMigration, Path, boolean, boolean, int)}; with
     * {@code postcopyPreempt} (see {@link #postcopyPreempt}) the source's preempt channel is one
     * more relayed connection, like a multifd channel.
     */
    public static TunnelServer.Destination incoming(IncomingMigration in, Path relaySocket, boolean postcopy, boolean handOff,
                                                    int multifdChannels, boolean postcopyPreempt) throws EngineException {
        if (handOff && multifdChannels == 0 && !postcopyPreempt) {
            in.expectConnection(postcopy);
            return TunnelServer.Destination.handOffTo(socket -> in.receive(sized(socket)));
        }
        in.listen(relaySocket, postcopy, multifdChannels, postcopyPreempt && postcopy);
        return TunnelServer.Destination.relayTo(relaySocket);
    }

    /** Source side, relay, with {@code multifdChannels} more connections through the same endpoint. */
    public static OutgoingRun.Stream outgoing(TunnelClient.Endpoint endpoint, int multifdChannels) {
        return OutgoingRun.throughSocket(endpoint.socket(), multifdChannels);
    }

    /** Source side, relay, with multifd channels or the post-copy preempt channel through the same endpoint. */
    public static OutgoingRun.Stream outgoing(TunnelClient.Endpoint endpoint, int multifdChannels, boolean postcopyPreempt) {
        return OutgoingRun.throughSocket(endpoint.socket(), multifdChannels, postcopyPreempt);
    }

    /**
     * Source side, hand-off: the stream of {@link OutgoingRun} over a connection authenticated as
     * the memory channel of {@code migrationId}, opened once the disks are in sync.
     */
    public static OutgoingRun.Stream outgoing(InetSocketAddress target, String migrationId, byte[] secret) {
        byte[] copy = secret.clone();
        return OutgoingRun.overConnection(() -> sized(TunnelClient.connect(target, migrationId, CHANNEL, copy)));
    }

    /**
     * Socket buffers of a handed-off memory stream, about a local unix socket's. TCP autotuning
     * grows them to megabytes, which QEMU's rate limit counts as sent while they still wait in the
     * kernel; at switchover that backlog adds to the pause. bench/migration, write-heavy guest
     * under a 64 MiB/s cap, downtime p50 against direct QEMU-to-QEMU: +20 and +13 ms with
     * autotuned buffers, -12 and -13 ms with these (four runs of 10, same host).
     */
    static final int SOCKET_BUFFER_BYTES = 256 * 1024;

    static java.nio.channels.SocketChannel sized(java.nio.channels.SocketChannel socket) throws IOException {
        socket.setOption(java.net.StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
        socket.setOption(java.net.StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
        return socket;
    }

    /** Source side, relay: {@code endpoint} listens where the source QEMU sends the stream. */
    public static OutgoingRun.Stream outgoing(TunnelClient.Endpoint endpoint) {
        return OutgoingRun.throughSocket(endpoint.socket());
    }

    /** Source side, relay: a tunnel endpoint for the memory channel at {@code unixSocket}. */
    public static TunnelClient.Endpoint relayEndpoint(Path unixSocket, InetSocketAddress target, String migrationId, byte[] secret,
                                                      SSLContext tlsOrNull) throws IOException {
        return TunnelClient.listen(unixSocket, target, migrationId, CHANNEL, secret, tlsOrNull);
    }
}
