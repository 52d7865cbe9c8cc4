package io.kubevmm.node.transfer.tunnel;

import static io.kubevmm.node.transfer.tunnel.StreamChecks.connectUnix;
import static io.kubevmm.node.transfer.tunnel.StreamChecks.hungUp;
import static io.kubevmm.node.transfer.tunnel.StreamChecks.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.kubevmm.node.transfer.tunnel.TunnelServer.Registration;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A migration is admitted only while registered, under ids the handshake can carry; ending it
 * (done, cancelled, failed) cuts its streams and lets no one in afterwards.
 */
class RegistrationTest {
    private static final String MIGRATION = "default_vm-1_mig-7";

    @TempDir
    Path dir;
    private final byte[] secret = TunnelSecrets.generate();
    private TunnelServer server;
    private FakeTargetQemu targetQemu;
    private TunnelClient.Endpoint endpoint;

    @BeforeEach
    void start() throws Exception {
        server = new TunnelServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null);
        server.start();
        targetQemu = FakeTargetQemu.echo(dir.resolve("target.sock"));
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        endpoint = TunnelClient.listen(dir.resolve("source.sock"), target, MIGRATION, "migration", secret, null);
    }

    @AfterEach
    void stop() throws Exception {
        endpoint.close();
        targetQemu.close();
        server.close();
    }

    @Test
    void closingTheRegistrationCutsLiveConnectionsAndRefusesNewOnes() throws Exception {
        Registration registration = server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket()));
        try (SocketChannel sourceQemu = connectUnix(endpoint.socket())) {
            write(sourceQemu, "ping");
            ByteBuffer echoed = ByteBuffer.allocate(4);
            while (echoed.hasRemaining()) {
                sourceQemu.read(echoed);
            }

            registration.close();

            await().until(() -> hungUp(sourceQemu));
            assertThat(registration.openConnections()).isZero();
            // A reset, not a half-close: the source node drops its side without waiting for QEMU.
            await().until(() -> endpoint.openConnections() == 0);
        }
        try (SocketChannel lateSourceQemu = connectUnix(endpoint.socket())) {
            await().until(() -> hungUp(lateSourceQemu));
        }
        assertThat(endpoint.lastError()).contains("unknown migration " + MIGRATION);
        assertThat(server.rejectedConnections()).isEqualTo(1);
        assertThat(targetQemu.acceptedConnections()).isEqualTo(1);
    }

    @Test
    void aHandOffConsumerGetsOnlyAuthenticatedConnectionsAndNothingOnceClosed() throws Exception {
        java.util.List<String> taken = new java.util.concurrent.CopyOnWriteArrayList<>();
        Registration registration = server.registerDestinations(MIGRATION, secret, Map.of(
                "migration", TunnelServer.Destination.handOffTo(connection -> taken.add("migration")),
                "nbd", TunnelServer.Destination.relayTo(targetQemu.socket())));
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        try (SocketChannel handedOff = TunnelClient.connect(target, MIGRATION, "migration", secret)) {
            assertThat(handedOff.isConnected()).isTrue();
        }
        assertThat(taken).containsExactly("migration");
        assertThatThrownBy(() -> TunnelClient.connect(target, MIGRATION, "migration", TunnelSecrets.generate()))
                .hasMessageContaining("bad proof");
        assertThat(taken).hasSize(1);
        assertThat(registration.connections()).isEqualTo(1);

        registration.close();
        assertThatThrownBy(() -> TunnelClient.connect(target, MIGRATION, "migration", secret))
                .hasMessageContaining("unknown migration");
        assertThat(taken).hasSize(1);
    }

    @Test
    void closingTheServerCutsEveryMigrationAndStopsListening() throws Exception {
        server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket()));
        try (SocketChannel sourceQemu = connectUnix(endpoint.socket())) {
            write(sourceQemu, "ping");
            sourceQemu.read(ByteBuffer.allocate(4));

            server.close();

            await().until(() -> hungUp(sourceQemu));
        }
        assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), server.port()).close())
                .isInstanceOf(ConnectException.class);
    }

    @Test
    void migrationCanBeRegisteredAgainAfterClose() throws Exception {
        server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket())).close();
        try (Registration again = server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket()));
             SocketChannel sourceQemu = connectUnix(endpoint.socket())) {
            write(sourceQemu, "ping");
            sourceQemu.shutdownOutput();

            assertThat(StreamChecks.readToEnd(sourceQemu)).isEqualTo("ping");
            assertThat(again.connections()).isEqualTo(1);
        }
    }

    @Test
    void aMigrationIsRegisteredOnceAtATime() {
        try (Registration first = server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket()))) {
            assertThatThrownBy(() -> server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket())))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("migration " + MIGRATION + " is already registered");
        }
    }

    @Test
    void idsThatWouldBreakTheHandshakeLineAreRejected() {
        assertThatThrownBy(() -> server.register("vm 1", secret, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("migration id \"vm 1\"");
        assertThatThrownBy(() -> server.register(MIGRATION, secret, Map.of("ram\n", targetQemu.socket())))
                .hasMessageContaining("channel");
    }

    @Test
    void shortSecretsAreRejected() {
        assertThatThrownBy(() -> server.register(MIGRATION, new byte[8], Map.of()))
                .hasMessageContaining("at least 16");
    }

    @Test
    void closingTheEndpointRemovesItsSocket() {
        endpoint.close();

        assertThat(endpoint.socket()).doesNotExist();
    }
}
