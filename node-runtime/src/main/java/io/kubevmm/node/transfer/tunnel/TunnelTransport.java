package io.kubevmm.node.transfer.tunnel;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/** How node runtimes reach each other: plain TCP or mutual TLS, switched here and nowhere else. */
sealed interface TunnelTransport {

    /** The listening side of a transport. */
    interface Listener extends Closeable {
        /** Blocks for the next connection; with TLS, its handshake happens later, in the handshake's time limit. */
        PeerLink accept() throws IOException;

        int port();
    }

    static TunnelTransport of(SSLContext tlsOrNull) {
        return tlsOrNull == null ? new PlainTcp() : new MutualTls(tlsOrNull);
    }

    Listener listen(InetSocketAddress bind) throws IOException;

    PeerLink connect(InetSocketAddress target, Duration timeout) throws IOException;

    /** Socket channels end to end: the kernel copies straight into the pipes' direct buffers. */
    record PlainTcp() implements TunnelTransport {
        @Override
        public Listener listen(InetSocketAddress bind) throws IOException {
            ServerSocketChannel server = ServerSocketChannel.open().bind(bind);
            return new Listener() {
                @Override
                public PeerLink accept() throws IOException {
                    return link(server.accept());
                }

                @Override
                public int port() {
                    return server.socket().getLocalPort();
                }

                @Override
                public void close() throws IOException {
                    server.close();
                }
            };
        }

        @Override
        public PeerLink connect(InetSocketAddress target, Duration timeout) throws IOException {
            SocketChannel channel = SocketChannel.open();
            try {
                channel.socket().connect(target, (int) timeout.toMillis());
                return link(channel);
            } catch (IOException e) {
                channel.close();
                throw e;
            }
        }

        private static PeerLink link(SocketChannel channel) throws IOException {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            // The handshake uses the channel's socket adaptor, whose reads honour SO_TIMEOUT.
            return new PeerLink(new ChannelEnd(channel), channel.socket());
        }
    }

    /**
     * TLS 1.3 only: it closes one direction at a time (half-close), which the pipes rely on.
     * Both sides present a certificate and trust only the cluster's CA; host names are not
     * checked because node addresses come and go, while the CA and the per-migration secret
     * already decide who may talk.
     */
    record MutualTls(SSLContext context) implements TunnelTransport {
        private static final String[] PROTOCOLS = {"TLSv1.3"};

        @Override
        public Listener listen(InetSocketAddress bind) throws IOException {
            SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
            server.setEnabledProtocols(PROTOCOLS);
            server.setNeedClientAuth(true);
            server.bind(bind);
            return new Listener() {
                @Override
                public PeerLink accept() throws IOException {
                    return link((SSLSocket) server.accept());
                }

                @Override
                public int port() {
                    return server.getLocalPort();
                }

                @Override
                public void close() throws IOException {
                    server.close();
                }
            };
        }

        @Override
        public PeerLink connect(InetSocketAddress target, Duration timeout) throws IOException {
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
            try {
                socket.setEnabledProtocols(PROTOCOLS);
                socket.connect(target, (int) timeout.toMillis());
                return link(socket);
            } catch (IOException e) {
                socket.close();
                throw e;
            }
        }

        private static PeerLink link(SSLSocket socket) throws IOException {
            socket.setTcpNoDelay(true);
            return new PeerLink(new SocketStreamEnd(socket), socket);
        }
    }
}
