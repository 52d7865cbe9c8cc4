package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.EmulatorUnreachableException;
import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.engine.MigrationTuning;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.StartedGuests;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A guest arriving by live migration has one owner on its new node: the emulator the migration
 * target started, with its one monitor connection, goes to the VM's runner. The VMI controller
 * reconciling the VM right at arrival (the race that once killed a migrated guest) neither
 * adopts it a second time nor kills it.
 */
class ArrivalOwnershipTest {
    private static final Duration BOOT = Duration.ofSeconds(60);
    private static final Lifecycle.Desired RUNNING = new Lifecycle.Desired(InstanceState.Running, SuspendMode.Memory, RestartPolicy.Always);
    @RegisterExtension
    final StartedGuests started = new StartedGuests();

    @TempDir
    Path dir;


    @Test
    void aVmReconciledWhileItArrivesByMigrationKeepsItsQemuAndItsTicks() throws Exception {
        try (ReadinessWatcher readiness = new ReadinessWatcher()) {
            NodeVms nodeA = TestNodes.vms("node-a", dir.resolve("node-a"), readiness);
            NodeVms nodeB = TestNodes.vms("node-b", dir.resolve("node-b"), readiness);
            VmConfig source = TestNodes.guest(nodeA, "default", "evac-1", "memcheck:32");
            VmConfig target = TestNodes.guest(nodeB, "default", "evac-1", "memcheck:32");
            VmmInstance from = TestGuest.engine().create(source);
            started.add(from);
            from.resume();
            GuestConsole before = new GuestConsole(source.consoleLog());
            await().atMost(BOOT).until(() -> before.lastMemcheckPass() >= 1);

            // The migration target claims the VM, then starts its incoming emulator (as TargetMigrations does).
            assertThat(nodeB.reserveArrival("default", "evac-1")).isTrue();
            VmmInstance arriving = TestGuest.engine().createIncoming(target);
            started.add(arriving);
            long pid = arriving.pid();
            Path stream = target.stateDir().resolve("incoming.sock");
            arriving.incoming().listen(stream, false);
            assertThat(nodeB.runner("default", "evac-1", target)).as("a reconcile before the guest arrived finds it held").isEmpty();

            from.outgoing().start(stream, new MigrationTuning(false, false, 300, 0));
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(20))
                    .until(() -> from.outgoing().progress(0).status(), s -> s.equals(MigrationStatus.COMPLETED) || s.equals(MigrationStatus.FAILED));
            assertThat(from.outgoing().progress(0).status()).isEqualTo(MigrationStatus.COMPLETED);
            await().atMost(Duration.ofSeconds(10)).until(arriving::runState, s -> s == RunState.RUNNING);
            int lastTickOnSource = before.lastTick();

            // The window of the race: the guest runs here, the target has not handed it over yet, the VMI controller reconciles.
            assertThat(nodeB.runner("default", "evac-1", target)).as("a reconcile at arrival finds the VM held").isEmpty();
            // What the old reconcile did: adoption from pidfile and socket while the target holds the monitor.
            assertThatThrownBy(() -> TestGuest.engine().adopt(target))
                    .isInstanceOf(EmulatorUnreachableException.class).hasMessageContaining("QEMU " + pid);
            assertThat(ProcessHandle.of(pid)).as("no greeting is no reason to kill it").hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());
            assertThat(arriving.runState()).as("the target's monitor connection still drives it").isEqualTo(RunState.RUNNING);

            VmRunner runner = nodeB.takeOver("default", "evac-1", target, arriving, true);
            started.remove(arriving);
            assertThat(nodeB.runner("default", "evac-1", target)).as("the reconcile after hand-over gets the same runner").containsSame(runner);
            runner.converge(target, RUNNING, GuestConsole.READY, Duration.ofSeconds(10), 1);

            GuestConsole after = new GuestConsole(target.consoleLog());
            await().atMost(Duration.ofSeconds(30)).until(() -> after.lastTick() > lastTickOnSource + 3);
            assertThat(after.ticks().getFirst()).as("the first tick on node-b continues node-a's count").isBetween(lastTickOnSource, lastTickOnSource + 2);
            assertThat(after.count(GuestConsole.READY)).as("no second boot").isZero();
            assertThat(after.memcheckFailed()).as("memcheck on node-b").isFalse();
            VmObservation obs = runner.observe();
            assertThat(obs.pid()).as("the QEMU that received the guest runs it").isEqualTo(pid);
            assertThat(obs.phase()).isEqualTo(InstancePhase.Running);
            assertThat(obs.ready()).isTrue();
            assertThat(obs.lastFailure()).isNull();

            nodeB.delete("default", "evac-1").get(60, TimeUnit.SECONDS);
            assertThat(ProcessHandle.of(pid).filter(io.kubevmm.node.engine.ProcessLiveness::running)).as("QEMU after delete").isEmpty();
        }
    }
}
