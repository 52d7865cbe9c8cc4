package io.kubevmm.node.transfer.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kubevmm.node.transfer.tunnel.TunnelServer.Registration;
import io.kubevmm.node.qmp.QmpClient;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two real QEMUs (microvm, TCG, vCPUs halted) migrate through the tunnel as the node runtimes will drive them. */
class TunnelWithQemuTest {
    private static final String QEMU = "qemu-system-x86_64";
    private static final String MIGRATION = "default_vm-1_mig-7";

    @TempDir
    Path dir;
    private final byte[] secret = TunnelSecrets.generate();
    private final List<Process> processes = new ArrayList<>();
    private final List<QmpClient> clients = new ArrayList<>();
    private TunnelServer server;
    private QmpClient sourceQemu;
    private QmpClient targetQemu;
    private Path targetIncoming;

    @BeforeAll
    static void requireQemu() {
        assumeTrue(Stream.of(System.getenv("PATH").split(File.pathSeparator))
                .anyMatch(directory -> Files.isExecutable(Path.of(directory, QEMU))), QEMU + " is not on PATH");
    }

    @BeforeEach
    void startBothNodes() throws Exception {
        server = new TunnelServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null);
        server.start();
        sourceQemu = startQemu("source");
        targetQemu = startQemu("target", "-incoming", "defer");
        targetIncoming = dir.resolve("incoming.sock");
        targetQemu.execute("migrate-incoming", Map.of("uri", "unix:" + targetIncoming));
        // The return path makes the target talk back on the same connection while RAM flows forward.
        sourceQemu.execute("migrate-set-capabilities",
                Map.of("capabilities", List.of(Map.of("capability", "return-path", "state", true))));
    }

    @AfterEach
    void stopBothNodes() throws Exception {
        clients.forEach(QmpClient::close);
        for (Process process : processes) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        server.close();
    }

    @Test
    void qemuMigratesThroughTheTunnel() throws Exception {
        try (Registration registration = server.register(MIGRATION, secret, Map.of("migration", targetIncoming));
             TunnelClient.Endpoint endpoint = listen(secret)) {
            sourceQemu.execute("migrate", Map.of("uri", "unix:" + endpoint.socket()));

            await().atMost(Duration.ofMinutes(2)).until(() -> migrationStatus(sourceQemu).matches("completed|failed"));
            assertThat(migrationStatus(sourceQemu)).isEqualTo("completed");
            await().until(() -> migrationStatus(targetQemu).equals("completed"));
            // Each pipe counts a chunk after writing it on: QEMU can report completion before the
            // relaying threads have added the last one, so the totals settle a moment later.
            await().untilAsserted(() -> {
                assertThat(registration.bytesFromSource()).isPositive().isEqualTo(endpoint.bytesSent());
                assertThat(registration.bytesToSource()).isPositive().isEqualTo(endpoint.bytesReceived());
            });
        }
    }

    @Test
    void migrationWithAWrongSecretFailsFastAndTheTargetKeepsWaiting() throws Exception {
        try (Registration registration = server.register(MIGRATION, secret, Map.of("migration", targetIncoming));
             TunnelClient.Endpoint endpoint = listen(TunnelSecrets.generate())) {
            sourceQemu.execute("migrate", Map.of("uri", "unix:" + endpoint.socket()));

            await().until(() -> migrationStatus(sourceQemu).matches("completed|failed"));
            assertThat(migrationStatus(sourceQemu)).isEqualTo("failed");
            assertThat(endpoint.lastError()).contains("bad proof");
            assertThat(registration.connections()).isZero();
            assertThat(targetQemu.execute("query-status").path("status").asText()).isEqualTo("inmigrate");
        }
    }

    @Test
    void qemuMigratesOverAHandedOffConnection() throws Exception {
        QmpClient target = startQemu("target-deferred", "-incoming", "defer");
        List<String> handedOff = new ArrayList<>();
        try (Registration registration = server.registerDestinations(MIGRATION, secret, Map.of("migration",
                TunnelServer.Destination.handOffTo(connection -> {
                    target.passFd("in", connection);
                    target.execute("migrate-incoming", Map.of("uri", "fd:in"));
                    handedOff.add("in");
                })))) {
            try (SocketChannel connection = TunnelClient.connect(targetAddress(), MIGRATION, "migration", secret)) {
                sourceQemu.passFd("out", connection);
                sourceQemu.execute("migrate", Map.of("uri", "fd:out"));
            }

            await().atMost(Duration.ofMinutes(2)).until(() -> migrationStatus(sourceQemu).matches("completed|failed"));
            assertThat(migrationStatus(sourceQemu)).isEqualTo("completed");
            await().until(() -> migrationStatus(target).equals("completed"));
            assertThat(handedOff).containsExactly("in");
            assertThat(registration.connections()).isEqualTo(1);
            assertThat(registration.bytesFromSource()).as("no byte passed through this process").isZero();
        }
    }

    @Test
    void aWrongSecretNeverReachesTheHandOffConsumer() throws Exception {
        QmpClient target = startQemu("target-deferred", "-incoming", "defer");
        List<SocketChannel> handedOff = new ArrayList<>();
        try (Registration registration = server.registerDestinations(MIGRATION, secret, Map.of("migration",
                TunnelServer.Destination.handOffTo(handedOff::add)))) {
            assertThatThrownBy(() -> TunnelClient.connect(targetAddress(), MIGRATION, "migration", TunnelSecrets.generate()))
                    .isInstanceOf(TunnelRefusedException.class).hasMessageContaining("bad proof");
            assertThat(handedOff).isEmpty();
            assertThat(registration.connections()).isZero();
            assertThat(server.rejectedConnections()).isEqualTo(1);
            assertThat(target.execute("query-status").path("status").asText()).isEqualTo("inmigrate");
            assertThat(migrationStatus(target)).isEqualTo("none");
        }
    }

    @Test
    void aConsumerThatFailsRefusesTheConnectionWithItsReason() throws Exception {
        try (Registration registration = server.registerDestinations(MIGRATION, secret, Map.of("migration",
                TunnelServer.Destination.handOffTo(connection -> {
                    throw new IllegalStateException("QEMU is gone");
                })))) {
            assertThatThrownBy(() -> TunnelClient.connect(targetAddress(), MIGRATION, "migration", secret))
                    .isInstanceOf(TunnelRefusedException.class).hasMessageContaining("QEMU is gone");
            assertThat(registration.connections()).isZero();
        }
    }

    private InetSocketAddress targetAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
    }

    private TunnelClient.Endpoint listen(byte[] sourceSecret) throws Exception {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        return TunnelClient.listen(dir.resolve("outgoing.sock"), target, MIGRATION, "migration", sourceSecret, null);
    }

    private QmpClient startQemu(String name, String... extra) throws Exception {
        Path qmp = dir.resolve(name + "-qmp.sock");
        List<String> command = new ArrayList<>(List.of(QEMU, "-M", "microvm", "-accel", "tcg", "-m", "129M",
                "-display", "none", "-nodefaults", "-S", "-qmp", "unix:" + qmp + ",server=on,wait=off"));
        command.addAll(List.of(extra));
        processes.add(new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile()).start());
        QmpClient client = QmpClient.connect(qmp, Duration.ofSeconds(20));
        clients.add(client);
        return client;
    }

    private static String migrationStatus(QmpClient qemu) throws Exception {
        JsonNode info = qemu.execute("query-migrate");
        return info.path("status").asText("none");
    }
}
