package io.kubevmm.node.migration;

import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.engine.MigrationTotals;
import io.kubevmm.node.engine.MigrationTuning;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.transfer.tunnel.TunnelSecrets;
import io.kubevmm.node.transfer.tunnel.TunnelServer;
import io.kubevmm.node.qmp.FdPassing;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.StartedGuests;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A memcheck guest migrates between two engines' emulators the way the node runtimes drive it over
 * plain TCP: the authenticated tunnel connection itself is handed to QEMU on both sides
 * ({@link MigrationStreams}), so no byte of the stream passes through this JVM.
 */
class HandOffMigrationTest {
    private static final Duration BOOT = Duration.ofSeconds(60);
    private static final String MIGRATION = "default_vm_handoff-1";
    @RegisterExtension
    final StartedGuests started = new StartedGuests();
    private final byte[] secret = TunnelSecrets.generate();
    private TunnelServer server;

    @TempDir
    Path dir;

    @BeforeAll
    static void requireFdPassing() {
        assumeTrue(FdPassing.available(), () -> "descriptor passing unavailable: " + FdPassing.unavailableReason());
        assertThat(MigrationStreams.handOff(null, TestGuest.engine())).isTrue();
    }

    @BeforeEach
    void startTunnel() throws Exception {
        server = new TunnelServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null);
        server.start();
    }

    @AfterEach
    void cleanUp() {
        server.close();
    }

    @Test
    void preCopyOverAHandedOffConnection() throws Exception {
        VmConfig source = TestGuest.microvm(dir.resolve("a"), "vm", "memcheck:48");
        VmConfig target = TestGuest.microvm(dir.resolve("b"), "vm", "memcheck:48");
        VmmInstance from = boot(source);
        GuestConsole before = new GuestConsole(source.consoleLog());
        await().atMost(BOOT).until(() -> before.lastMemcheckPass() >= 1);
        VmmInstance to = incoming(target);

        try (TunnelServer.Registration registration = register(to, target, false)) {
            VMMigrationSpec spec = new VMMigrationSpec();
            spec.setStrategy(VMMigrationSpec.Strategy.PreCopy);
            OutgoingRun run = new OutgoingRun(MIGRATION, OutgoingRun.settings(spec), MigrationStreams.outgoing(address(), MIGRATION, secret),
                    null, () -> null, () -> null, QUIET);
            MigrationTotals totals = run.run(from.outgoing());

            assertThat(totals.transferredBytes()).isPositive();
            assertThat(registration.connections()).isEqualTo(1);
            assertThat(registration.bytesFromSource()).as("no byte of the stream passed through this JVM").isZero();
        }
        assertGuestRunsOnTarget(from, to, source, target, before);
    }

    @Test
    void postCopyOverAHandedOffConnection() throws Exception {
        VmConfig source = TestGuest.microvm(dir.resolve("a"), "vm", "memcheck:48");
        VmConfig target = TestGuest.microvm(dir.resolve("b"), "vm", "memcheck:48");
        VmmInstance from = boot(source);
        GuestConsole before = new GuestConsole(source.consoleLog());
        await().atMost(BOOT).until(() -> before.lastMemcheckPass() >= 1);
        VmmInstance to = incoming(target);

        try (TunnelServer.Registration registration = register(to, target, true)) {
            // Slow pre-copy (8 MiB/s) so the switch surely happens mid-transfer; post-copy itself is uncapped.
            MigrationStreams.outgoing(address(), MIGRATION, secret).start(from.outgoing(), new MigrationTuning(true, false, 300, 8L << 20));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> from.outgoing().progress(0).status(), MigrationStatus.ACTIVE::equals);
            from.outgoing().startPostcopy();
            Set<MigrationStatus> seen = new LinkedHashSet<>();
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(10)).until(() -> {
                MigrationStatus status = from.outgoing().progress(0).status();
                seen.add(status);
                return status.equals(MigrationStatus.COMPLETED) || status.equals(MigrationStatus.FAILED);
            });
            assertThat(seen).as("source statuses after the switch").contains(MigrationStatus.COMPLETED).doesNotContain(MigrationStatus.FAILED);
            assertThat(seen).as("the guest went through post-copy (page requests on the return path)").contains(MigrationStatus.POSTCOPY);
            assertThat(registration.connections()).isEqualTo(1);
        }
        assertGuestRunsOnTarget(from, to, source, target, before);
    }

    @Test
    void aWrongSecretIsRefusedBeforeTheIncomingEmulatorSeesAnything() throws Exception {
        VmConfig target = TestGuest.microvm(dir.resolve("b"), "vm", "memcheck:48");
        VmmInstance to = incoming(target);
        try (TunnelServer.Registration registration = register(to, target, false)) {
            OutgoingRun.Stream stream = MigrationStreams.outgoing(address(), MIGRATION, TunnelSecrets.generate());
            assertThatThrownBy(() -> stream.start(null, new MigrationTuning(false, false, 300, 0)))
                    .isInstanceOf(MigrationStopped.class).hasMessageContaining("bad proof");
            assertThat(registration.connections()).isZero();
            assertThat(server.rejectedConnections()).isEqualTo(1);
            assertThat(to.incoming().status()).as("no migrate-incoming was issued").isEqualTo(MigrationStatus.NONE);
            assertThat(to.runState()).isNotEqualTo(RunState.RUNNING);
        }
    }

    private void assertGuestRunsOnTarget(VmmInstance from, VmmInstance to, VmConfig source, VmConfig target, GuestConsole before) {
        await().atMost(Duration.ofSeconds(10)).until(to::runState, s -> s == RunState.RUNNING);
        assertThat(from.runState()).isEqualTo(RunState.MIGRATED);
        int lastTickOnSource = before.lastTick();
        int pass = before.lastMemcheckPass();
        GuestConsole after = new GuestConsole(target.consoleLog());
        await().atMost(Duration.ofSeconds(30)).until(() -> after.lastMemcheckPass() > pass + 1 && after.lastTick() > lastTickOnSource + 1);
        assertThat(after.count(GuestConsole.READY)).as("no second boot").isZero();
        assertThat(after.memcheckFailed()).as("memcheck on the target").isFalse();
    }

    private TunnelServer.Registration register(VmmInstance to, VmConfig target, boolean postcopy) throws Exception {
        TunnelServer.Destination memory = MigrationStreams.incoming(to.incoming(), target.stateDir().resolve("incoming.sock"), postcopy, true);
        assertThat(memory).isInstanceOf(TunnelServer.Destination.HandOff.class);
        return server.registerDestinations(MIGRATION, secret, Map.of(MigrationStreams.CHANNEL, memory));
    }

    private InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
    }

    private VmmInstance boot(VmConfig config) throws Exception {
        VmmInstance vm = TestGuest.engine().create(config);
        started.add(vm);
        vm.resume();
        return vm;
    }

    private VmmInstance incoming(VmConfig config) throws Exception {
        VmmInstance vm = TestGuest.engine().createIncoming(config);
        started.add(vm);
        return vm;
    }

    private static final OutgoingRun.Progress QUIET = new OutgoingRun.Progress() {
        @Override public void transferStarted() { }
        @Override public void sample(MigrationSample sample, boolean postCopy) { }
        @Override public void decision(String reason, String what) { }
    };
}
