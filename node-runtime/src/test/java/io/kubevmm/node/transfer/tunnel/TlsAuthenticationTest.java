package io.kubevmm.node.transfer.tunnel;

import static io.kubevmm.node.transfer.tunnel.StreamChecks.connectUnix;
import static io.kubevmm.node.transfer.tunnel.StreamChecks.hungUp;
import static io.kubevmm.node.transfer.tunnel.StreamChecks.offer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.kubevmm.node.transfer.tunnel.TunnelServer.Registration;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With TLS on, the secret is not enough: the source must also hold a certificate of the cluster CA. */
class TlsAuthenticationTest {
    private static final String MIGRATION = "default_vm-1_mig-7";

    @TempDir
    Path dir;
    private final byte[] secret = TunnelSecrets.generate();
    private TestCertificates cluster;
    private TunnelServer server;
    private FakeTargetQemu targetQemu;
    private Registration registration;

    @BeforeEach
    void registerMigration() throws Exception {
        Path certificates = Files.createDirectory(dir.resolve("cluster"));
        cluster = TestCertificates.authority(certificates, "cluster-ca");
        // A short handshake limit: a plain TCP source waits for a greeting that TLS never sends.
        server = new TunnelServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                cluster.node("node-b", "ec", cluster), Duration.ofSeconds(1));
        server.start();
        targetQemu = FakeTargetQemu.echo(dir.resolve("target.sock"));
        registration = server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket()));
    }

    @AfterEach
    void stop() throws Exception {
        registration.close();
        targetQemu.close();
        server.close();
    }

    @Test
    void sourceWithACertificateOfAnotherCaIsRefused() throws Exception {
        TestCertificates stranger = TestCertificates.authority(Files.createDirectory(dir.resolve("stranger")), "stranger-ca");
        // It trusts the cluster CA and knows the secret, but its own certificate chains to the wrong CA.
        assertRefused(stranger.node("intruder", "ec", cluster), "TLS");
    }

    @Test
    void plainTcpSourceIsRefused() throws Exception {
        assertRefused(null, "cannot open tunnel");
    }

    @Test
    void aTlsServerRelaysEveryChannelAndRefusesToHandConnectionsOff() {
        assertThat(server.canHandOff()).isFalse();
        assertThatThrownBy(() -> server.registerDestinations("default_vm-2_mig-1", secret, Map.of("migration",
                TunnelServer.Destination.handOffTo(connection -> { }))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TLS");
    }

    @Test
    void aPlainTcpSourceAskingForTheConnectionItselfIsRefused() throws Exception {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        assertThatThrownBy(() -> TunnelClient.connect(target, MIGRATION, "migration", secret)).isInstanceOf(java.io.IOException.class);
        await().until(() -> server.rejectedConnections() == 1);
        assertThat(targetQemu.acceptedConnections()).isZero();
    }

    private void assertRefused(SSLContext sourceTls, String reason) throws Exception {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        try (TunnelClient.Endpoint endpoint = TunnelClient.listen(dir.resolve("source.sock"), target, MIGRATION, "migration",
                     secret, sourceTls);
             SocketChannel sourceQemu = connectUnix(endpoint.socket())) {
            offer(sourceQemu, "QEVM migration stream that must not arrive");

            await().until(() -> hungUp(sourceQemu));
            assertThat(endpoint.lastError()).contains(reason);
        }
        await().until(() -> server.rejectedConnections() == 1);
        assertThat(targetQemu.acceptedConnections()).isZero();
        assertThat(registration.bytesFromSource()).isZero();
    }
}
