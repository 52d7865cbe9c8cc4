package io.kubevmm.node.transfer.tunnel;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Stands in for the target QEMU's incoming socket: accepts every connection, counts it and
 * serves it with the test's behaviour on its own thread.
 */
final class FakeTargetQemu implements AutoCloseable {
    /** What the fake QEMU does with one connection; it is closed afterwards. */
    interface Behaviour {
        void serve(SocketChannel connection) throws Exception;
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final Behaviour behaviour;
    private final List<SocketChannel> accepted = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();

    private FakeTargetQemu(Path socket, Behaviour behaviour) throws IOException {
        this.socket = socket;
        this.behaviour = behaviour;
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().name("fake-target-qemu " + socket).start(this::acceptLoop);
    }

    static FakeTargetQemu start(Path socket, Behaviour behaviour) throws IOException {
        return new FakeTargetQemu(socket, behaviour);
    }

    /** Sends back everything it receives, then half-closes once the source half-closed. */
    static FakeTargetQemu echo(Path socket) throws IOException {
        return start(socket, StreamChecks::echo);
    }

    Path socket() {
        return socket;
    }

    int acceptedConnections() {
        return accepted.size();
    }

    /** Errors the behaviour threw, for tests to assert there were none. */
    List<Throwable> failures() {
        return failures;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel connection : accepted) {
            connection.close();
        }
        Files.deleteIfExists(socket);
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel connection = server.accept();
                accepted.add(connection);
                Thread.ofVirtual().start(() -> serve(connection));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel connection) {
        try (connection) {
            behaviour.serve(connection);
        } catch (Throwable e) {
            failures.add(e);
        }
    }
}
