package io.kubevmm.node.migration;

import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.engine.MigrationTuning;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.transfer.tunnel.TunnelClient;
import io.kubevmm.node.transfer.tunnel.TunnelSecrets;
import io.kubevmm.node.transfer.tunnel.TunnelServer;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.StartedGuests;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Post-copy with {@code postcopy-preempt} on a QEMU that has it: the source QEMU opens a second
 * connection for the page requests the target faults on, and that one goes through the tunnel
 * relay, authenticated with the migration's secret, exactly like the main stream. The node
 * runtimes decide by {@link MigrationStreams#ownConnections}; this drives both ends the same way.
 */
class PostcopyPreemptMigrationTest {
    private static final Duration BOOT = Duration.ofSeconds(60);
    private static final String MIGRATION = "default_vm_preempt-1";
    @RegisterExtension
    final StartedGuests started = new StartedGuests();
    private final byte[] secret = TunnelSecrets.generate();
    private TunnelServer server;

    @TempDir
    Path dir;

    @BeforeEach
    void startTunnel() throws Exception {
        assumeTrue(TestGuest.engine().capabilities().contains("postcopy-preempt"),
                () -> "QEMU " + TestGuest.engine().version() + " has no postcopy-preempt");
        server = new TunnelServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null);
        server.start();
    }

    @AfterEach
    void cleanUp() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void postCopyWithPreemptMovesTheGuestOverTwoTunnelledConnections() throws Exception {
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setStrategy(VMMigrationSpec.Strategy.PostCopy);
        var engine = TestGuest.engine();
        assertThat(MigrationStreams.postcopyPreempt(spec, engine)).isTrue();
        assertThat(MigrationStreams.ownConnections(spec, engine)).as("relayed on both nodes, never handed off").isTrue();
        VMMigrationSpec auto = new VMMigrationSpec();
        auto.setStrategy(VMMigrationSpec.Strategy.Auto);
        assertThat(MigrationStreams.postcopyPreempt(auto, engine)).as("Auto keeps the hand-off").isFalse();
        postCopyThroughTheRelay(true, 2);
    }

    @Test
    void withoutPreemptTheSamePostCopyIsOneConnection() throws Exception {
        postCopyThroughTheRelay(false, 1);
    }

    private void postCopyThroughTheRelay(boolean preempt, int connections) throws Exception {
        VmConfig source = TestGuest.microvm(dir.resolve("a"), "vm", "memcheck:48");
        VmConfig target = TestGuest.microvm(dir.resolve("b"), "vm", "memcheck:48");
        VmmInstance from = boot(source);
        GuestConsole before = new GuestConsole(source.consoleLog());
        await().atMost(BOOT).until(() -> before.lastMemcheckPass() >= 1);
        VmmInstance to = TestGuest.engine().createIncoming(target);
        started.add(to);

        TunnelServer.Destination memory = MigrationStreams.incoming(to.incoming(), target.stateDir().resolve("incoming.sock"),
                true, false, 0, preempt);
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        try (TunnelServer.Registration registration = server.registerDestinations(MIGRATION, secret,
                Map.of(MigrationStreams.CHANNEL, memory));
             TunnelClient.Endpoint relay = MigrationStreams.relayEndpoint(source.stateDir().resolve("outgoing.sock"), address,
                     MIGRATION, secret, null)) {
            // Slow pre-copy (8 MiB/s) so the switch surely happens mid-transfer; post-copy itself is uncapped.
            MigrationStreams.outgoing(relay, 0, preempt).start(from.outgoing(), new MigrationTuning(true, false, 300, 8L << 20));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> from.outgoing().progress(0).status(), MigrationStatus.ACTIVE::equals);
            from.outgoing().startPostcopy();
            Set<MigrationStatus> seen = new LinkedHashSet<>();
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(10)).until(() -> {
                MigrationStatus status = from.outgoing().progress(0).status();
                seen.add(status);
                return status == MigrationStatus.COMPLETED || status == MigrationStatus.FAILED;
            });
            assertThat(seen).as("source statuses after the switch").contains(MigrationStatus.COMPLETED).doesNotContain(MigrationStatus.FAILED);
            assertThat(seen).as("the guest went through post-copy").contains(MigrationStatus.POSTCOPY);
            assertThat(relay.drain(Duration.ofSeconds(30))).as("every relayed connection ended").isTrue();
            assertThat(registration.connections()).as("main stream (and preempt channel), each authenticated by the tunnel")
                    .isEqualTo(connections);
            assertThat(server.rejectedConnections()).isZero();
        }

        await().atMost(Duration.ofSeconds(10)).until(to::runState, s -> s == RunState.RUNNING);
        assertThat(from.runState()).isEqualTo(RunState.MIGRATED);
        int lastTickOnSource = before.lastTick();
        int pass = before.lastMemcheckPass();
        GuestConsole after = new GuestConsole(target.consoleLog());
        await().atMost(Duration.ofSeconds(30)).until(() -> after.lastMemcheckPass() > pass + 1 && after.lastTick() > lastTickOnSource + 1);
        assertThat(after.count(GuestConsole.READY)).as("no second boot").isZero();
        assertThat(after.memcheckFailed()).as("memcheck on the target").isFalse();
    }

    private VmmInstance boot(VmConfig config) throws Exception {
        VmmInstance vm = TestGuest.engine().create(config);
        started.add(vm);
        vm.resume();
        return vm;
    }
}
