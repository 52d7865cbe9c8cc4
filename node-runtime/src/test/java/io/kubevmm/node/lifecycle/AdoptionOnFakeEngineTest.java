package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.node.engine.RunState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A runner takes over what an earlier node runtime left, without starting a second emulator. */
class AdoptionOnFakeEngineTest {
    @TempDir
    Path dir;

    private static void remember(FakeVm vm, Instant guestReady) throws Exception {
        Files.createDirectories(vm.config.stateDir());
        new RuntimeRecord(guestReady.minusSeconds(5), guestReady.minusSeconds(3), guestReady, 3000L, 0, 2).write(vm.config.stateDir());
    }

    @Test
    void aRunningEmulatorIsAdoptedWithWhatTheStateDirRemembersAndNothingIsStarted() throws Exception {
        try (FakeVm vm = new FakeVm(dir, "adopted")) {
            FakeEngine.Instance left = vm.engine.leave(vm.config, RunState.RUNNING);
            Instant ready = Instant.parse("2025-12-31T23:00:00Z");
            remember(vm, ready);
            vm.adopt();
            VmObservation adopted = vm.runner.observe();
            assertThat(adopted.machine()).as("known before the first converge").isEqualTo(MachineState.RUNNING);

            vm.want(InstanceState.Running);
            VmObservation obs = vm.settled();
            assertThat(obs.pid()).isEqualTo(left.pid());
            assertThat(obs.ready()).isTrue();
            assertThat(obs.guestReadyTime()).isEqualTo(ready);
            assertThat(obs.restartCount()).isEqualTo(2);
            assertThat(vm.engine.created).hasValue(0);
            assertThat(left.calls).isEmpty();
        }
    }

    @Test
    void aGuestThatPoweredOffWhileNoRuntimeWatchedIsBootedAgainInItsEmulator() throws Exception {
        try (FakeVm vm = new FakeVm(dir, "off")) {
            FakeEngine.Instance left = vm.engine.leave(vm.config, RunState.SHUTDOWN);
            vm.adopt();
            assertThat(vm.runner.observe().machine()).isEqualTo(MachineState.POWERED_OFF);

            vm.want(InstanceState.Running);
            VmObservation obs = vm.await("booted again", o -> o.restartCount() == 1 && o.ready());
            assertThat(obs.pid()).isEqualTo(left.pid());
            assertThat(left.calls).containsExactly("reset", "resume");
        }
    }

    @Test
    void anEmulatorThatMigratedItsGuestAwayIsEndedAndNeverResumed() throws Exception {
        try (FakeVm vm = new FakeVm(dir, "gone")) {
            FakeEngine.Instance left = vm.engine.leave(vm.config, RunState.MIGRATED);
            vm.adopt();
            vm.want(InstanceState.Running);
            VmObservation obs = vm.settled();
            assertThat(obs.machine()).isEqualTo(MachineState.MIGRATED);
            assertThat(left.destroyed).isTrue();
            assertThat(left.calls).doesNotContain("resume");
            assertThat(vm.engine.created).hasValue(0);
        }
    }

    @Test
    void stateSavedToDiskIsFoundAndRestoredWhenTheVmShouldRun() throws Exception {
        try (FakeVm vm = new FakeVm(dir, "saved")) {
            Files.createDirectories(vm.config.stateDir());
            Files.write(vm.config.suspendStateFile(), new byte[512]);
            vm.adopt();
            assertThat(vm.runner.observe().phase()).isEqualTo(InstancePhase.Suspended);

            vm.want(InstanceState.Running);
            vm.awaitMachine(MachineState.RUNNING);
            assertThat(vm.done).containsExactly(Action.RESTORE_FROM_DISK, Action.RESUME);
        }
    }

    @Test
    void anEmulatorThatDoesNotAnswerIsLeftAloneAndAdoptedWithBackoffOnceItDoes() throws Exception {
        try (FakeVm vm = new FakeVm(dir, "silent")) {
            FakeEngine.Instance left = vm.engine.leave(vm.config, RunState.RUNNING);
            vm.engine.unreachableFor(vm.config, 2);
            vm.adopt();
            vm.want(InstanceState.Running);
            VmObservation silent = vm.settled();
            assertThat(silent.machine()).isEqualTo(MachineState.UNREACHABLE);
            assertThat(silent.lastFailure().reason()).isEqualTo("EmulatorUnreachable");
            assertThat(silent.lastFailure().message()).contains("left running");
            assertThat(vm.engine.created).as("no second emulator").hasValue(0);
            assertThat(vm.time.pendingDelays()).containsExactly(Duration.ofSeconds(1));

            vm.time.advance(Duration.ofSeconds(1));
            vm.settled();
            assertThat(vm.runner.observe().machine()).isEqualTo(MachineState.UNREACHABLE);
            assertThat(vm.time.pendingDelays()).as("the next attempt waits longer").containsExactly(Duration.ofSeconds(2));

            vm.time.advance(Duration.ofSeconds(2));
            VmObservation adopted = vm.await("adopted", o -> o.machine() == MachineState.RUNNING);
            assertThat(adopted.pid()).isEqualTo(left.pid());
            assertThat(adopted.lastFailure()).isNull();
            assertThat(vm.engine.created).hasValue(0);
        }
    }

    @Test
    void aMigrationAnEarlierRuntimeLeftUnderWayHoldsTheVmUntilItIsSettled() throws Exception {
        try (FakeVm vm = new FakeVm(dir, "held")) {
            FakeEngine.Instance left = vm.engine.leave(vm.config, RunState.PAUSED);
            OperationIntent.migrateOut("mig-1", "uid-1", "node-b", true).write(vm.config.stateDir());
            vm.adopt();
            vm.want(InstanceState.Stopped);
            VmObservation held = vm.settled();
            assertThat(held.phase()).isEqualTo(InstancePhase.Migrating);
            assertThat(vm.runner.pendingMigration()).map(OperationIntent::migrationUid).hasValue("uid-1");
            assertThat(left.calls).as("no lifecycle step while it is unsettled").isEmpty();

            vm.runner.settleMigration(RecoveryDecision.MigrationAction.STAY, "the target never had it").get(5, TimeUnit.SECONDS);
            assertThat(left.calls).as("its vCPUs ran before: they run again").startsWith("resume");
            assertThat(vm.runner.pendingMigration()).isEmpty();
            assertThat(vm.config.stateDir().resolve(OperationIntent.FILE)).doesNotExist();
            vm.await("then stopped as wanted", o -> o.phase() == InstancePhase.Stopped);
        }
    }

    @Test
    void aMigrationSettledAsHandedOverEndsThisCopy() throws Exception {
        try (FakeVm vm = new FakeVm(dir, "handed")) {
            FakeEngine.Instance left = vm.engine.leave(vm.config, RunState.MIGRATED);
            OperationIntent.migrateOut("mig-1", "uid-1", "node-b", true).write(vm.config.stateDir());
            vm.adopt();
            vm.want(InstanceState.Running);
            assertThat(vm.settled().machine()).as("held, not ended on a guess").isEqualTo(MachineState.MIGRATED);
            assertThat(left.destroyed).isFalse();

            vm.runner.settleMigration(RecoveryDecision.MigrationAction.HAND_OVER, "the target runs it").get(5, TimeUnit.SECONDS);
            assertThat(vm.settled().machine()).isEqualTo(MachineState.MIGRATED);
            assertThat(left.destroyed).isTrue();
            assertThat(left.calls).doesNotContain("resume");
        }
    }
}
