package io.kubevmm.node.migration;

import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.engine.MigrationTuning;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.engine.qemu.QemuEngine;
import io.kubevmm.node.transfer.tunnel.TunnelClient;
import io.kubevmm.node.transfer.tunnel.TunnelSecrets;
import io.kubevmm.node.transfer.tunnel.TunnelServer;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.StartedGuests;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Multifd live migration through the tunnel relay: every channel is a tunnel connection of its own. */
class MultifdMigrationTest {
    private static final Duration BOOT = Duration.ofSeconds(60);
    private static final String MIGRATION = "default_vm_multifd";
    @RegisterExtension
    final StartedGuests started = new StartedGuests();

    @TempDir
    Path dir;


    @Test
    void aWriteHeavyGuestMovesOverThreeMultifdChannelsEachAuthenticatedThroughTheTunnel() throws Exception {
        QemuEngine engine = TestGuest.engine();
        assumeTrue(engine.features().supports("multifd"), () -> "QEMU " + engine.version() + " has no multifd");
        VmConfig source = TestGuest.microvm(dir.resolve("a"), "vm", "memcheck:48");
        VmConfig target = TestGuest.microvm(dir.resolve("b"), "vm", "memcheck:48");
        VmmInstance from = engine.create(source);
        started.add(from);
        from.resume();
        GuestConsole before = new GuestConsole(source.consoleLog());
        await().atMost(BOOT).until(() -> before.lastMemcheckPass() >= 1);
        byte[] secret = TunnelSecrets.generate();

        try (TunnelServer server = new TunnelServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null)) {
            server.start();
            VmmInstance to = engine.createIncoming(target);
            started.add(to);
            TunnelServer.Destination memory = MigrationStreams.incoming(to.incoming(), target.stateDir().resolve("incoming.sock"),
                    false, true, 3);
            try (TunnelServer.Registration registration = server.registerDestinations(MIGRATION, secret,
                         Map.of(MigrationStreams.CHANNEL, memory));
                 TunnelClient.Endpoint endpoint = MigrationStreams.relayEndpoint(source.stateDir().resolve("outgoing.sock"),
                         new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()), MIGRATION, secret, null)) {
                MigrationStreams.outgoing(endpoint, 3).start(from.outgoing(), new MigrationTuning(false, true, 300, 0));
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50))
                        .until(() -> from.outgoing().progress(0).status(), s -> s.equals(MigrationStatus.COMPLETED) || s.equals(MigrationStatus.FAILED));
                assertThat(from.outgoing().progress(0).status()).isEqualTo(MigrationStatus.COMPLETED);
                assertThat(registration.connections()).as("main stream + 3 multifd channels, each admitted by its proof")
                        .isEqualTo(4);
                assertThat(endpoint.drain(Duration.ofSeconds(30))).as("every channel reached the target in full").isTrue();
                assertThat(registration.bytesFromSource()).isGreaterThan(source.memoryBytes() / 8)
                        .isEqualTo(endpoint.bytesSent());
                await().atMost(Duration.ofSeconds(10)).until(to::runState, s -> s == RunState.RUNNING);
            }
        }
        GuestConsole after = new GuestConsole(target.consoleLog());
        int pass = before.lastMemcheckPass();
        await().atMost(Duration.ofSeconds(30)).until(() -> after.lastMemcheckPass() > pass + 1);
        assertThat(after.memcheckFailed()).isFalse();
        assertThat(after.count(GuestConsole.READY)).as("no second boot").isZero();
    }
}
