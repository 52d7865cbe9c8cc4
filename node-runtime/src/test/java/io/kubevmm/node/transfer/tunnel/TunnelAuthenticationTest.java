package io.kubevmm.node.transfer.tunnel;

import static io.kubevmm.node.transfer.tunnel.StreamChecks.connectUnix;
import static io.kubevmm.node.transfer.tunnel.StreamChecks.hungUp;
import static io.kubevmm.node.transfer.tunnel.StreamChecks.offer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.kubevmm.node.transfer.tunnel.TunnelServer.Registration;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Only the source that knows the migration's secret reaches the target QEMU: every other
 * connection is refused and the target's socket never sees it, so nothing it sent reaches QEMU.
 */
class TunnelAuthenticationTest {
    private static final String MIGRATION = "default_vm-1_mig-7";

    @TempDir
    Path dir;
    private final byte[] secret = TunnelSecrets.generate();
    private TunnelServer server;
    private FakeTargetQemu targetQemu;
    private Registration registration;

    @BeforeEach
    void registerMigration() throws Exception {
        // A short handshake limit keeps the silent-client test quick; the product uses 5 s.
        server = new TunnelServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null, Duration.ofMillis(500));
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
    void wrongSecretIsRefusedBeforeTargetQemuSeesAConnection() throws Exception {
        assertSourceRefused(MIGRATION, "migration", TunnelSecrets.generate(), "bad proof");
    }

    @Test
    void unknownMigrationIsRefused() throws Exception {
        assertSourceRefused("default_vm-1_other", "migration", secret, "unknown migration default_vm-1_other");
    }

    @Test
    void unknownChannelIsRefused() throws Exception {
        assertSourceRefused(MIGRATION, "nbd", secret, "unknown channel nbd");
    }

    @Test
    void garbageInsteadOfAnAnswerIsRefused() throws Exception {
        try (Socket raw = rawConnection()) {
            BufferedReader in = reader(raw);
            assertThat(in.readLine()).startsWith("KUBEVMM-TUNNEL 1 ");
            raw.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

            assertThat(in.readLine()).startsWith("DENIED malformed answer");
            assertThat(in.readLine()).isNull();
        }
        assertRefusedWithoutReachingQemu();
    }

    @Test
    void endlessLineIsRefused() throws Exception {
        try (Socket raw = rawConnection()) {
            BufferedReader in = reader(raw);
            in.readLine();
            raw.getOutputStream().write(new byte[4096]);

            assertThat(in.readLine()).isEqualTo("DENIED handshake line longer than 512 bytes");
        }
        assertRefusedWithoutReachingQemu();
    }

    @Test
    void silentConnectionIsRefusedWhenTheHandshakeTimesOut() throws Exception {
        try (Socket raw = rawConnection()) {
            BufferedReader in = reader(raw);
            in.readLine();

            assertThat(in.readLine()).startsWith("DENIED timeout");
            assertThat(in.readLine()).isNull();
        }
        assertRefusedWithoutReachingQemu();
    }

    @Test
    void recordedAnswerDoesNotOpenAnotherConnection() throws Exception {
        String recordedAnswer;
        try (Socket first = rawConnection()) {
            BufferedReader in = reader(first);
            String nonce = in.readLine().substring("KUBEVMM-TUNNEL 1 ".length());
            recordedAnswer = MIGRATION + " migration " + TunnelHandshake.proof(secret, nonce, MIGRATION, "migration") + "\n";
            first.getOutputStream().write(recordedAnswer.getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("OK");
        }
        // The relay connected to the target QEMU before its OK; the fake accepts on its own thread.
        await().until(() -> targetQemu.acceptedConnections() == 1);
        try (Socket replay = rawConnection()) {
            BufferedReader in = reader(replay);
            in.readLine();
            OutputStream out = replay.getOutputStream();
            out.write(recordedAnswer.getBytes(StandardCharsets.US_ASCII));

            assertThat(in.readLine()).startsWith("DENIED bad proof");
        }
        assertThat(server.rejectedConnections()).isEqualTo(1);
        assertThat(targetQemu.acceptedConnections()).isEqualTo(1);
    }

    private void assertSourceRefused(String migrationId, String channel, byte[] sourceSecret, String reason) throws Exception {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        try (TunnelClient.Endpoint endpoint = TunnelClient.listen(dir.resolve("source.sock"), target, migrationId, channel,
                     sourceSecret, null);
             SocketChannel sourceQemu = connectUnix(endpoint.socket())) {
            offer(sourceQemu, "QEVM migration stream that must not arrive");

            await().until(() -> hungUp(sourceQemu));
            assertThat(endpoint.lastError()).contains("refused", reason);
            assertThat(endpoint.bytesSent()).isZero();
        }
        assertRefusedWithoutReachingQemu();
    }

    private void assertRefusedWithoutReachingQemu() {
        await().until(() -> server.rejectedConnections() == 1);
        assertThat(targetQemu.acceptedConnections()).isZero();
        assertThat(registration.connections()).isZero();
        assertThat(registration.bytesFromSource()).isZero();
    }

    private Socket rawConnection() throws Exception {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port());
        socket.setSoTimeout(30_000);
        return socket;
    }

    private static BufferedReader reader(Socket socket) throws Exception {
        return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
    }
}
