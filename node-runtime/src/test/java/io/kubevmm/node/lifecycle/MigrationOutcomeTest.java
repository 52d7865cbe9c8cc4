package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmmInstance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What an outgoing live migration leaves on the source node, by how it ended; and a guest that
 * arrived, taken over. The migration's own work (tunnel, QEMU) is played by the test.
 */
class MigrationOutcomeTest {
    @TempDir
    Path dir;

    FakeVm vm;

    @BeforeEach
    void setUp() throws Exception {
        vm = new FakeVm(dir, "moving").adopt();
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
    }

    @AfterEach
    void tearDown() throws Exception {
        vm.close();
    }

    private static OperationIntent intent() {
        return OperationIntent.migrateOut("mig-1", "uid-1", "node-b", true);
    }

    @Test
    void aMigrationThatFailsAfterPostCopySwitchoverFailsTheVmEndsThisCopyAndIsNotRestarted() throws Exception {
        FakeEngine.Instance source = vm.emulator();
        CompletableFuture<Void> migration = vm.runner.migrateOut(intent(), emulator -> {
            ((FakeEngine.Instance) emulator).becomes(RunState.MIGRATED); // switched over: the guest runs on the target now
            throw new EngineException(EngineException.Reason.OperationFailed, "post-copy failed: connection reset");
        });
        assertThatThrownBy(() -> migration.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasMessageContaining("post-copy failed");

        VmObservation after = vm.settled();
        assertThat(after.machine()).isEqualTo(MachineState.FAILED);
        assertThat(after.phase()).isEqualTo(InstancePhase.Failed);
        assertThat(after.lastFailure().reason()).isEqualTo("MigrationFailedAfterSwitchover");
        assertThat(after.pid()).isNull();
        assertThat(source.destroyed).as("half a guest must never run").isTrue();
        assertThat(vm.config.stateDir().resolve(OperationIntent.FILE)).doesNotExist();

        vm.converge();
        assertThat(vm.settled().machine()).as("restartPolicy Always does not revive it").isEqualTo(MachineState.FAILED);
        assertThat(vm.engine.created).hasValue(1);

        vm.newGeneration();
        VmObservation fresh = vm.await("booted again", VmObservation::ready);
        assertThat(fresh.pid()).isNotEqualTo(source.pid());
        assertThat(fresh.lastFailure()).isNull();
    }

    @Test
    void aMigrationThatFailsBeforeSwitchoverLeavesTheGuestRunningHereAsBefore() throws Exception {
        FakeEngine.Instance source = vm.emulator();
        CompletableFuture<Void> migration = vm.runner.migrateOut(intent(), emulator -> {
            throw new EngineException(EngineException.Reason.OperationFailed, "target refused the stream");
        });
        assertThatThrownBy(() -> migration.get(5, TimeUnit.SECONDS)).hasMessageContaining("target refused");

        VmObservation after = vm.settled();
        assertThat(after.machine()).isEqualTo(MachineState.RUNNING);
        assertThat(after.pid()).isEqualTo(source.pid());
        assertThat(after.lastFailure()).isNull();
        assertThat(after.ready()).isTrue();
        assertThat(source.destroyed).isFalse();
        assertThat(vm.config.stateDir().resolve(OperationIntent.FILE)).doesNotExist();
    }

    @Test
    void aGuestSuspendedToMemoryStaysPausedWhenItsMigrationFails() throws Exception {
        vm.want(InstanceState.Suspended, SuspendMode.Memory, RestartPolicy.Always);
        vm.awaitMachine(MachineState.PAUSED);
        CompletableFuture<Void> migration = vm.runner.migrateOut(intent(), emulator -> {
            throw new EngineException(EngineException.Reason.OperationFailed, "cancelled");
        });
        assertThatThrownBy(() -> migration.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
        assertThat(vm.settled().machine()).isEqualTo(MachineState.PAUSED);
    }

    @Test
    void whileTheGuestMigratesItsPhaseIsMigratingAndACompletedMigrationEndsThisCopy() throws Exception {
        FakeEngine.Instance source = vm.emulator();
        CountDownLatch sending = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        CompletableFuture<Void> migration = vm.runner.migrateOut(intent(), emulator -> {
            sending.countDown();
            await(finish);
            ((FakeEngine.Instance) emulator).becomes(RunState.MIGRATED);
        });
        assertThat(sending.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(vm.runner.observe().phase()).isEqualTo(InstancePhase.Migrating);
        assertThat(vm.config.stateDir().resolve(OperationIntent.FILE)).as("recorded for a runtime that restarts meanwhile").exists();

        finish.countDown();
        migration.get(5, TimeUnit.SECONDS);
        VmObservation after = vm.settled();
        assertThat(after.machine()).isEqualTo(MachineState.MIGRATED);
        assertThat(source.destroyed).isTrue();
        vm.converge();
        assertThat(vm.settled().machine()).as("nothing here is started again").isEqualTo(MachineState.MIGRATED);
        assertThat(vm.engine.created).hasValue(1);
    }

    @Test
    void aMigrationOfAVmThatDoesNotRunIsRefusedAndNamesItsPhase() throws Exception {
        vm.want(InstanceState.Stopped);
        vm.awaitMachine(MachineState.CREATED);
        CompletableFuture<Void> migration = vm.runner.migrateOut(intent(), emulator -> { });
        assertThatThrownBy(() -> migration.get(5, TimeUnit.SECONDS)).hasMessageContaining("is Stopped, not running");
    }

    @Test
    void aGuestThatArrivedIsTakenOverRunningAndKeepsItsReadiness() throws Exception {
        try (FakeVm target = new FakeVm(dir.resolve("node-b"), "moving")) {
            VmmInstance arrived = target.engine.createIncoming(target.config);
            ((FakeEngine.Instance) arrived).becomes(RunState.RUNNING);
            target.runner.takeOver(arrived, true).get(5, TimeUnit.SECONDS);
            target.want(InstanceState.Running);

            VmObservation obs = target.settled();
            assertThat(obs.machine()).isEqualTo(MachineState.RUNNING);
            assertThat(obs.pid()).isEqualTo(arrived.pid());
            assertThat(obs.ready()).as("it was ready before it moved").isTrue();
            assertThat(obs.bootMillis()).as("not booted here").isNull();
            assertThat(target.engine.created).as("only the incoming emulator").hasValue(1);
            assertThat(((FakeEngine.Instance) arrived).calls).as("no step needed").isEmpty();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aCopyHandedOverAndDeletedRightAwayStartsNoEmulatorAfterwards() throws Exception {
        // What the source node does once the VMI names the target: settle (hand over), then delete.
        // The settlement asks for a drive; run after the deletion, it would boot an emulator no
        // runner tracks (seen in a system test: a halted QEMU left in the source's state dir).
        FakeEngine.Instance source = vm.emulator();
        source.becomes(RunState.MIGRATED);
        CompletableFuture<Void> settled = vm.runner.settleMigration(RecoveryDecision.MigrationAction.HAND_OVER, "handed over");
        CompletableFuture<Void> deleted = vm.runner.delete(true);
        settled.get(5, TimeUnit.SECONDS);
        deleted.get(5, TimeUnit.SECONDS);
        vm.runner.scheduleDrive(); // and whatever asks later
        Thread.sleep(300);

        assertThat(source.destroyed).isTrue();
        assertThat(vm.engine.created).as("no emulator after the deletion").hasValue(1);
        assertThat(vm.config.stateDir()).doesNotExist();
    }
}
