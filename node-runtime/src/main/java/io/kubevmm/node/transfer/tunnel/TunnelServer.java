package io.kubevmm.node.transfer.tunnel;

import io.kubevmm.node.transfer.tunnel.TunnelHandshake.Answer;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.jboss.logging.Logger;

/**
 * The target node's end of migration tunnels: one TCP (or TLS) listener per node. Each incoming
 * migration is {@linkplain #register registered} with its secret and a {@link Destination} per
 * channel ("migration", "nbd", ...): the unix socket its target QEMU listens on, whose bytes are
 * relayed, or (plain TCP only) a consumer that takes the authenticated connection itself, to pass
 * it on to QEMU so that no byte goes through this process. A connection that proves the secret
 * for a registered (migration, channel) goes to that channel's destination; any other is refused
 * before the destination is even touched, so nothing it sent reaches QEMU.
 */
public final class TunnelServer implements Closeable {
    private static final Logger LOG = Logger.getLogger(TunnelServer.class);

    private final InetSocketAddress bind;
    private final TunnelTransport transport;
    private final Duration handshakeTimeout;
    private final Map<String, Registration> registrations = new ConcurrentHashMap<>();
    private final LongAdder rejectedConnections = new LongAdder();
    private final RefusalLog refusalLog = new RefusalLog(Duration.ofSeconds(10), System::nanoTime);
    private final Set<PeerLink> handshaking = ConcurrentHashMap.newKeySet();
    private volatile TunnelTransport.Listener listener;
    private volatile boolean closed;

    /** A server on {@code bind} (port 0 picks a free port), speaking mutual TLS when {@code tlsOrNull} is set. */
    public TunnelServer(InetSocketAddress bind, SSLContext tlsOrNull) {
        this(bind, tlsOrNull, TunnelHandshake.TIMEOUT);
    }

    TunnelServer(InetSocketAddress bind, SSLContext tlsOrNull, Duration handshakeTimeout) {
        this.bind = bind;
        this.transport = TunnelTransport.of(tlsOrNull);
        this.handshakeTimeout = handshakeTimeout;
    }

    /** Binds and starts accepting. */
    public synchronized void start() throws IOException {
        if (listener != null || closed) {
            throw new IllegalStateException("tunnel server on " + bind + " was already started");
        }
        listener = transport.listen(bind);
        Thread.ofPlatform().daemon().name("tunnel-server:" + listener.port()).start(this::acceptLoop);
        LOG.infof("Migration tunnel listening on %s:%d (%s)", bind.getHostString(), listener.port(),
                transport instanceof TunnelTransport.MutualTls ? "mutual TLS" : "plain TCP");
    }

    /** The bound port, which is the ephemeral one when bound to port 0. */
    public int port() {
        TunnelTransport.Listener current = listener;
        if (current == null) {
            throw new IllegalStateException("tunnel server on " + bind + " is not started");
        }
        return current.port();
    }

    /** Where the authenticated connections of one channel go. */
    public sealed interface Destination {
        /** Relays the connection's bytes both ways to a new connection to this unix socket (any transport). */
        record Relay(Path unixSocket) implements Destination { }

        /**
         * Hands the authenticated connection itself to {@code consumer} (plain TCP only). The server
         * answers OK to the source only once the consumer has returned, and closes its own copy of
         * the connection then; a consumer that throws has the connection refused with its message.
         */
        record HandOff(Consumer consumer) implements Destination { }

        /** Takes an authenticated connection, e.g. passes its descriptor to QEMU; must not read or write it. */
        @FunctionalInterface
        interface Consumer {
            void take(SocketChannel connection) throws Exception;
        }

        static Destination relayTo(Path unixSocket) {
            return new Relay(unixSocket);
        }

        static Destination handOffTo(Consumer consumer) {
            return new HandOff(consumer);
        }
    }

    /** Whether this server can {@linkplain Destination.HandOff hand connections off}: plain TCP, not TLS. */
    public boolean canHandOff() {
        return transport instanceof TunnelTransport.PlainTcp;
    }

    /**
     * Admits connections for {@code migrationId} that prove {@code secret}, piping each to the unix
     * socket of the channel it names. Closing the registration ends the admission and cuts its connections.
     */
    public Registration register(String migrationId, byte[] secret, Map<String, Path> channels) {
        Map<String, Destination> destinations = new HashMap<>();
        channels.forEach((channel, socket) -> destinations.put(channel, Destination.relayTo(socket)));
        return registerDestinations(migrationId, secret, destinations);
    }

    /**
     * Admits connections for {@code migrationId} that prove {@code secret}, each to the destination
     * of the channel it names. Closing the registration ends the admission and cuts its relayed
     * connections (handed-off ones belong to their consumer).
     *
     * @throws IllegalArgumentException for a hand-off destination on a TLS server (QEMU cannot speak this TLS)
     */
    public Registration registerDestinations(String migrationId, byte[] secret, Map<String, Destination> channels) {
        TunnelHandshake.requireName("migration id", migrationId);
        if (!canHandOff() && channels.values().stream().anyMatch(d -> d instanceof Destination.HandOff)) {
            throw new IllegalArgumentException("migration " + migrationId + ": a TLS tunnel relays every channel;"
                    + " connections cannot be handed off");
        }
        channels.keySet().forEach(channel -> TunnelHandshake.requireName("channel", channel));
        if (secret.length < 16) {
            throw new IllegalArgumentException("secret of migration " + migrationId + " has " + secret.length
                    + " bytes; use at least 16 (TunnelSecrets.generate() makes 32)");
        }
        Registration registration = new Registration(migrationId, secret.clone(), Map.copyOf(channels));
        if (registrations.putIfAbsent(migrationId, registration) != null) {
            throw new IllegalStateException("migration " + migrationId + " is already registered; close it first");
        }
        return registration;
    }

    /** Connections refused since start: failed handshakes of any kind. */
    public long rejectedConnections() {
        return rejectedConnections.sum();
    }

    /** Stops listening and cuts every registered migration's connections. */
    @Override
    public void close() {
        closed = true;
        TunnelTransport.Listener current = listener;
        if (current != null) {
            try {
                current.close();
            } catch (IOException e) {
                LOG.debugf("Closing tunnel listener: %s", e);
            }
        }
        handshaking.forEach(PeerLink::closeQuietly);
        registrations.values().forEach(Registration::close);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                PeerLink link = listener.accept();
                handshaking.add(link);
                Thread.ofVirtual().name("tunnel-handshake " + link.remote()).start(() -> {
                    try {
                        admit(link);
                    } finally {
                        handshaking.remove(link);
                    }
                });
            } catch (IOException e) {
                if (!closed) {
                    LOG.warnf("Migration tunnel cannot accept a connection: %s", e.toString());
                }
            }
        }
    }

    private void admit(PeerLink link) {
        SocketAddress remote = link.remote();
        long deadline = System.nanoTime() + handshakeTimeout.toNanos();
        try {
            String nonce = TunnelHandshake.greet(link.socket(), deadline);
            Answer answer = TunnelHandshake.readAnswer(link.socket(), deadline);
            Registration registration = registrations.get(answer.migrationId());
            if (registration == null) {
                throw new TunnelRefusedException("unknown migration " + answer.migrationId());
            }
            Destination destination = registration.channels.get(answer.channel());
            if (destination == null) {
                throw new TunnelRefusedException("unknown channel " + answer.channel() + " of migration " + answer.migrationId());
            }
            if (!TunnelHandshake.proves(registration.secret, nonce, answer)) {
                throw new TunnelRefusedException("bad proof for migration " + answer.migrationId() + " channel " + answer.channel());
            }
            switch (destination) {
                case Destination.Relay relay -> registration.admit(link, answer.channel(), connectToQemu(relay.unixSocket(), answer.channel()));
                case Destination.HandOff handOff -> registration.handOff(link, answer.channel(), handOff.consumer());
            }
        } catch (TunnelRefusedException e) {
            refuse(link, remote, e.getMessage());
        } catch (SocketTimeoutException e) {
            refuse(link, remote, "timeout: no complete handshake within " + handshakeTimeout.toMillis() + " ms");
        } catch (SSLException e) {
            refuse(link, remote, "TLS handshake failed: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            refuse(link, remote, "handshake failed: " + e);
        }
    }

    private static SocketChannel connectToQemu(Path socket, String channel) throws TunnelRefusedException {
        try {
            SocketChannel qemu = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                qemu.connect(UnixDomainSocketAddress.of(socket));
                return qemu;
            } catch (IOException e) {
                qemu.close();
                throw e;
            }
        } catch (IOException e) {
            throw new TunnelRefusedException("channel " + channel + " is not accepting at " + socket + ": " + e.getMessage());
        }
    }

    private void refuse(PeerLink link, SocketAddress remote, String reason) {
        if (closed) {
            // Not a refusal: the server stopped in the middle of this handshake.
            link.closeQuietly();
            return;
        }
        rejectedConnections.increment();
        String line = refusalLog.refused(String.valueOf(remote), reason);
        if (line != null) {
            LOG.warn(line);
        }
        TunnelHandshake.denyQuietly(link.socket(), reason);
        link.closeQuietly();
    }

    /** One migration admitted by this server; closing it refuses further connections and cuts the open ones. */
    public final class Registration implements Closeable {
        private final String migrationId;
        private final byte[] secret;
        private final Map<String, Destination> channels;
        private final OpenPipes pipes = new OpenPipes();
        private volatile boolean closed;
        private final LongAdder bytesFromSource = new LongAdder();
        private final LongAdder bytesToSource = new LongAdder();
        private final LongAdder connections = new LongAdder();

        private Registration(String migrationId, byte[] secret, Map<String, Destination> channels) {
            this.migrationId = migrationId;
            this.secret = secret;
            this.channels = channels;
        }

        public String migrationId() {
            return migrationId;
        }

        /** Bytes the source sent towards the target QEMU, all relayed channels (handed-off bytes never pass here). */
        public long bytesFromSource() {
            return bytesFromSource.sum();
        }

        /** Bytes the target QEMU sent back (post-copy page requests, NBD replies), all relayed channels. */
        public long bytesToSource() {
            return bytesToSource.sum();
        }

        /** Connections admitted so far, all channels, relayed or handed off. */
        public long connections() {
            return connections.sum();
        }

        /** Connections still open. */
        public int openConnections() {
            return pipes.size();
        }

        @Override
        public void close() {
            closed = true;
            registrations.remove(migrationId, this);
            pipes.closeAll();
        }

        private void handOff(PeerLink link, String channel, Destination.Consumer consumer) throws IOException {
            if (closed) {
                throw new TunnelRefusedException("migration " + migrationId + " is no longer expected here");
            }
            SocketChannel connection = ((ChannelEnd) link.data()).channel();
            try {
                consumer.take(connection);
            } catch (Exception e) {
                throw new TunnelRefusedException("channel " + channel + " cannot take the connection: " + e.getMessage());
            }
            connections.increment();
            try {
                // The consumer's copy (QEMU's) waits for bytes that only come after this OK.
                TunnelHandshake.accept(link.socket());
                LOG.debugf("Migration %s channel %s: connection from %s handed off", migrationId, channel, link.remote());
            } finally {
                // Only this process's descriptor: a plain close, no shutdown, so the consumer's copy stays connected.
                connection.close();
            }
        }

        private void admit(PeerLink link, String channel, SocketChannel qemu) throws IOException {
            if (closed) {
                qemu.close();
                throw new TunnelRefusedException("migration " + migrationId + " is no longer expected here");
            }
            // Counted before the OK goes out: once the source has it, its whole stream can pass and end
            // before this thread runs again, and whoever reads connections() then must see this one.
            connections.increment();
            try {
                TunnelHandshake.accept(link.socket());
            } catch (IOException e) {
                connections.decrement();
                qemu.close();
                throw e;
            }
            ChannelEnd qemuEnd = new ChannelEnd(qemu);
            if (pipes.start(new Pipe(link.data(), qemuEnd, bytesFromSource, bytesToSource), "tunnel " + migrationId + "/" + channel)) {
                LOG.debugf("Migration %s channel %s: connection from %s admitted", migrationId, channel, link.remote());
            } else {
                // Closed while this connection authenticated: it came too late.
                link.closeQuietly();
                qemu.close();
            }
        }
    }
}
