package io.kubevmm.node.transfer.tunnel;

import static io.kubevmm.node.transfer.tunnel.StreamChecks.connectUnix;
import static io.kubevmm.node.transfer.tunnel.StreamChecks.readToEnd;
import static io.kubevmm.node.transfer.tunnel.StreamChecks.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.kubevmm.node.transfer.tunnel.StreamChecks.Digest;
import io.kubevmm.node.transfer.tunnel.TunnelServer.Registration;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a live migration needs from the tunnel, whatever the transport: QEMU's bytes arrive
 * unchanged in both directions at once, end of stream crosses as a half-close, and one
 * migration's channels and connections each reach their own target socket.
 */
abstract class TunnelDuplexContract {
    private static final String MIGRATION = "default_vm-1_mig-7";

    @TempDir
    Path dir;
    private final byte[] secret = TunnelSecrets.generate();
    private TunnelServer server;

    /** TLS of the target node, or null for plain TCP. */
    abstract SSLContext targetTls();

    /** TLS of the source node, or null for plain TCP. */
    abstract SSLContext sourceTls();

    /** How much to stream through in the bulk test. */
    abstract long bulkBytes();

    @BeforeEach
    void startTargetNode() throws Exception {
        server = new TunnelServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), targetTls());
        server.start();
    }

    @AfterEach
    void stopTargetNode() {
        server.close();
    }

    @Test
    void bytesArriveIntactInBothDirectionsAtOnce() throws Exception {
        try (FakeTargetQemu targetQemu = FakeTargetQemu.echo(dir.resolve("target.sock"));
             Registration registration = server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket()));
             TunnelClient.Endpoint endpoint = listen("migration");
             SocketChannel sourceQemu = connectUnix(endpoint.socket());
             var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<Digest> echoed = CompletableFuture.supplyAsync(() -> receive(sourceQemu), threads);
            Digest sent = StreamChecks.sendRandom(sourceQemu, bulkBytes(), 42);
            sourceQemu.shutdownOutput();

            assertThat(echoed.get(5, TimeUnit.MINUTES)).isEqualTo(sent);
            assertThat(targetQemu.failures()).isEmpty();
            await().untilAsserted(() -> {
                assertThat(registration.bytesFromSource()).isEqualTo(bulkBytes());
                assertThat(registration.bytesToSource()).isEqualTo(bulkBytes());
                assertThat(endpoint.bytesSent()).isEqualTo(bulkBytes());
                assertThat(endpoint.bytesReceived()).isEqualTo(bulkBytes());
                assertThat(registration.openConnections()).isZero();
            });
            assertThat(registration.connections()).isEqualTo(1);
            assertThat(server.rejectedConnections()).isZero();
        }
    }

    @Test
    void targetAnswersAfterTheSourceHalfClosed() throws Exception {
        FakeTargetQemu.Behaviour answerAfterEnd = connection -> write(connection, "reply to " + readToEnd(connection));
        try (FakeTargetQemu targetQemu = FakeTargetQemu.start(dir.resolve("target.sock"), answerAfterEnd);
             Registration registration = server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket()));
             TunnelClient.Endpoint endpoint = listen("migration");
             SocketChannel sourceQemu = connectUnix(endpoint.socket())) {
            write(sourceQemu, "last page");
            sourceQemu.shutdownOutput();

            assertThat(readToEnd(sourceQemu)).isEqualTo("reply to last page");
            assertThat(targetQemu.failures()).isEmpty();
        }
    }

    @Test
    void drainWaitsUntilTheTargetHasEverythingAndThenTakesNoNewConnection() throws Exception {
        FakeTargetQemu.Behaviour answerAfterEnd = connection -> write(connection, "reply to " + readToEnd(connection));
        try (FakeTargetQemu targetQemu = FakeTargetQemu.start(dir.resolve("target.sock"), answerAfterEnd);
             Registration registration = server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket()));
             TunnelClient.Endpoint endpoint = listen("migration");
             SocketChannel sourceQemu = connectUnix(endpoint.socket())) {
            write(sourceQemu, "last page");
            await().until(() -> endpoint.openConnections() == 1);
            assertThat(endpoint.drain(java.time.Duration.ofMillis(200))).as("the source has not ended its stream yet").isFalse();

            sourceQemu.shutdownOutput();

            assertThat(endpoint.drain(java.time.Duration.ofSeconds(10))).isTrue();
            assertThat(endpoint.openConnections()).isZero();
            assertThat(readToEnd(sourceQemu)).isEqualTo("reply to last page");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> connectUnix(endpoint.socket())).isInstanceOf(IOException.class);
        }
    }

    @Test
    void sourceKeepsSendingAfterTheTargetHalfClosed() throws Exception {
        CompletableFuture<String> targetReceived = new CompletableFuture<>();
        FakeTargetQemu.Behaviour closeFirst = connection -> {
            write(connection, "done sending");
            connection.shutdownOutput();
            targetReceived.complete(readToEnd(connection));
        };
        try (FakeTargetQemu targetQemu = FakeTargetQemu.start(dir.resolve("target.sock"), closeFirst);
             Registration registration = server.register(MIGRATION, secret, Map.of("migration", targetQemu.socket()));
             TunnelClient.Endpoint endpoint = listen("migration");
             SocketChannel sourceQemu = connectUnix(endpoint.socket())) {
            String fromTarget = readToEnd(sourceQemu);
            write(sourceQemu, "still sending");
            sourceQemu.shutdownOutput();

            assertThat(fromTarget).isEqualTo("done sending");
            assertThat(targetReceived.get(1, TimeUnit.MINUTES)).isEqualTo("still sending");
        }
    }

    @Test
    void eachChannelAndConnectionReachesItsOwnTargetSocket() throws Exception {
        // An NBD server speaks first, right after the tunnel's OK: none of it may be lost.
        FakeTargetQemu.Behaviour nbdGreets = connection -> {
            write(connection, "NBDMAGIC");
            connection.shutdownOutput();
            readToEnd(connection);
        };
        try (FakeTargetQemu ram = FakeTargetQemu.echo(dir.resolve("ram.sock"));
             FakeTargetQemu disk = FakeTargetQemu.start(dir.resolve("nbd.sock"), nbdGreets);
             Registration registration = server.register(MIGRATION, secret,
                     Map.of("migration", ram.socket(), "nbd", disk.socket()));
             TunnelClient.Endpoint ramEndpoint = listen("migration");
             TunnelClient.Endpoint diskEndpoint = listen("nbd");
             SocketChannel ramStream = connectUnix(ramEndpoint.socket());
             SocketChannel firstDiskStream = connectUnix(diskEndpoint.socket());
             SocketChannel secondDiskStream = connectUnix(diskEndpoint.socket())) {
            write(ramStream, "QEVM");
            ramStream.shutdownOutput();

            assertThat(readToEnd(ramStream)).isEqualTo("QEVM");
            assertThat(readToEnd(firstDiskStream)).isEqualTo("NBDMAGIC");
            assertThat(readToEnd(secondDiskStream)).isEqualTo("NBDMAGIC");
            assertThat(ram.acceptedConnections()).isEqualTo(1);
            assertThat(disk.acceptedConnections()).isEqualTo(2);
            assertThat(registration.connections()).isEqualTo(3);
        }
    }

    private TunnelClient.Endpoint listen(String channel) throws Exception {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        return TunnelClient.listen(dir.resolve("source-" + channel + ".sock"), target, MIGRATION, channel, secret, sourceTls());
    }

    private static Digest receive(SocketChannel channel) {
        try {
            return StreamChecks.receiveAll(channel);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
