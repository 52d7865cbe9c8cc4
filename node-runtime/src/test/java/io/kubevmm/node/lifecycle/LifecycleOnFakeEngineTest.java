package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.RunState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The survey's lifecycle driven through {@link VmRunner} on the fake engine: every step, in milliseconds. */
class LifecycleOnFakeEngineTest {
    private static final String READY = "KUBEVMM-GUEST-READY";

    @TempDir
    Path dir;

    FakeVm vm;

    @BeforeEach
    void setUp() throws Exception {
        vm = new FakeVm(dir, "guest").adopt();
    }

    @AfterEach
    void tearDown() throws Exception {
        vm.close();
    }

    @Test
    void aRunningVmIsCreatedHaltedThenStartedInTheSameEmulator() throws Exception {
        vm.want(InstanceState.Stopped);
        VmObservation stopped = vm.awaitMachine(MachineState.CREATED);
        assertThat(stopped.phase()).isEqualTo(InstancePhase.Stopped);
        FakeEngine.Instance emulator = vm.emulator();
        assertThat(emulator.runState()).as("vCPUs never started").isEqualTo(RunState.CREATED);

        vm.want(InstanceState.Running);
        VmObservation running = vm.await("ready", VmObservation::ready);
        assertThat(running.pid()).as("start reuses the created emulator").isEqualTo(emulator.pid());
        assertThat(running.phase()).isEqualTo(InstancePhase.Running);
        assertThat(running.startedTime()).isEqualTo(vm.time.now());
        assertThat(vm.done).containsExactly(Action.CREATE, Action.START);
        assertThat(vm.engine.created).hasValue(1);
    }

    @Test
    void suspendToMemoryPausesTheEmulatorAndResumeContinuesIt() throws Exception {
        vm.want(InstanceState.Running);
        long pid = vm.await("ready", VmObservation::ready).pid();

        vm.want(InstanceState.Suspended);
        assertThat(vm.awaitMachine(MachineState.PAUSED).phase()).isEqualTo(InstancePhase.Suspended);
        assertThat(vm.emulator().runState()).isEqualTo(RunState.PAUSED);

        vm.want(InstanceState.Running);
        VmObservation resumed = vm.awaitMachine(MachineState.RUNNING);
        assertThat(resumed.pid()).isEqualTo(pid);
        assertThat(resumed.restartCount()).as("no boot").isZero();
        assertThat(vm.emulator().runState()).isEqualTo(RunState.RUNNING);
    }

    @Test
    void suspendToDiskEndsTheEmulatorAndResumeRestoresTheSavedStateInANewOne() throws Exception {
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
        FakeEngine.Instance first = vm.emulator();

        vm.want(InstanceState.Suspended, SuspendMode.Disk, RestartPolicy.Always);
        VmObservation saved = vm.awaitMachine(MachineState.SAVED_TO_DISK);
        assertThat(saved.pid()).isNull();
        assertThat(saved.phase()).isEqualTo(InstancePhase.Suspended);
        assertThat(saved.suspendStateFile()).exists();
        assertThat(first.destroyed).isTrue();
        assertThat(vm.config.stateDir().resolve(OperationIntent.FILE)).as("the save's crash-recovery record").doesNotExist();

        vm.want(InstanceState.Running, SuspendMode.Disk, RestartPolicy.Always);
        VmObservation restored = vm.awaitMachine(MachineState.RUNNING);
        assertThat(restored.pid()).isNotEqualTo(first.pid());
        assertThat(vm.done).endsWith(Action.SAVE_TO_DISK, Action.RESTORE_FROM_DISK, Action.RESUME);
        assertThat(vm.config.suspendStateFile()).as("stale once the restored guest runs").doesNotExist();
    }

    @Test
    void aSaveToDiskThatFailsLeavesTheGuestPausedInItsEmulatorAndIsRetriedLater() throws Exception {
        vm.want(InstanceState.Running);
        long pid = vm.await("ready", VmObservation::ready).pid();
        vm.engine.failNext("saveState", new EngineException(EngineException.Reason.OperationFailed, "disk full"));

        vm.want(InstanceState.Suspended, SuspendMode.Disk, RestartPolicy.Always);
        VmObservation failed = vm.await("save failed", o -> o.lastFailure() != null && o.inFlight() == Action.NONE);
        assertThat(failed.machine()).isEqualTo(MachineState.PAUSED);
        assertThat(failed.pid()).isEqualTo(pid);
        assertThat(failed.lastFailure().message()).isEqualTo("disk full");
        assertThat(vm.runner.retryDelay()).isEqualTo(Duration.ofSeconds(2));

        vm.time.advance(Duration.ofSeconds(2));
        vm.converge();
        VmObservation saved = vm.awaitMachine(MachineState.SAVED_TO_DISK);
        assertThat(saved.lastFailure()).isNull();
    }

    @Test
    void aFailedStepIsRetriedWithGrowingDelaysAndNotBefore() throws Exception {
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
        vm.engine.failNext("pause", new EngineException(EngineException.Reason.OperationFailed, "monitor busy"));
        vm.engine.failNext("pause", new EngineException(EngineException.Reason.OperationFailed, "monitor busy"));

        vm.want(InstanceState.Suspended);
        vm.await("first failure", o -> o.lastFailure() != null && o.inFlight() == Action.NONE);
        assertThat(vm.runner.retryDelay()).isEqualTo(Duration.ofSeconds(2));
        vm.time.advance(Duration.ofSeconds(1));
        vm.converge(); // a reconcile before the delay is over does not retry
        assertThat(vm.settled().machine()).isEqualTo(MachineState.RUNNING);
        assertThat(vm.emulator().calls).containsOnlyOnce("pause");

        vm.time.advance(Duration.ofSeconds(1));
        vm.converge();
        vm.await("second failure", o -> vm.emulator().calls.stream().filter("pause"::equals).count() == 2 && o.inFlight() == Action.NONE);
        assertThat(vm.runner.retryDelay()).isEqualTo(Duration.ofSeconds(4));

        vm.time.advance(Duration.ofSeconds(4));
        vm.converge();
        VmObservation paused = vm.awaitMachine(MachineState.PAUSED);
        assertThat(paused.lastFailure()).isNull();
        assertThat(vm.runner.retryDelay()).isNull();
    }

    @Test
    void stoppingARunningGuestPowersItOffAndLeavesAFreshHaltedMachine() throws Exception {
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
        FakeEngine.Instance first = vm.emulator();

        vm.want(InstanceState.Stopped);
        VmObservation stopped = vm.await("stopped", o -> o.phase() == InstancePhase.Stopped);
        assertThat(first.calls).contains("requestPowerDown");
        assertThat(first.destroyed).isTrue();
        assertThat(stopped.pid()).isNotEqualTo(first.pid());
        assertThat(vm.emulator().runState()).isEqualTo(RunState.CREATED);
    }

    @Test
    void aGuestThatIgnoresThePowerButtonIsEndedAfterItsGracePeriod() throws Exception {
        vm.stopGrace = Duration.ofMillis(50);
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
        FakeEngine.Instance stubborn = vm.emulator();
        stubborn.ignoresPowerButton = true;

        vm.want(InstanceState.Stopped);
        vm.await("stopped", o -> o.phase() == InstancePhase.Stopped);
        assertThat(stubborn.destroyed).isTrue();
    }

    @Test
    void theGuestIsReadyOnlyWhenTheConsoleOfItsCurrentBootPrintsThePattern() throws Exception {
        vm.readinessPattern = READY;
        vm.want(InstanceState.Stopped);
        vm.awaitMachine(MachineState.CREATED);
        vm.emulator().print(READY + " (from an earlier boot)");

        vm.want(InstanceState.Running);
        vm.awaitMachine(MachineState.RUNNING);
        assertThat(vm.settled().ready()).as("output from before the boot does not count").isFalse();
        assertThat(vm.runner.observe().guestReadyTime()).isNull();

        vm.emulator().print("tick 1");
        vm.emulator().print(READY);
        VmObservation ready = vm.await("ready", VmObservation::ready);
        assertThat(ready.guestReadyTime()).isEqualTo(vm.time.now());
        assertThat(ready.bootMillis()).isNotNull().isNotNegative();
        vm.settled();
        assertThat(vm.boots).as("boot times reported").hasSize(1);

        vm.emulator().reboot();
        vm.await("not ready after a reboot", o -> !o.ready());
        vm.emulator().print(READY);
        vm.await("ready again", VmObservation::ready);
        vm.settled();
        assertThat(vm.boots).hasSize(2);
    }

    @Test
    void aVmWhoseEmulatorCannotBeCreatedFailsUntilANewGenerationTriesAgain() throws Exception {
        vm.engine.failNext("create", new EngineException(EngineException.Reason.MissingFile, "spec.boot.kernel vmlinuz does not exist"));
        vm.want(InstanceState.Running);
        VmObservation failed = vm.awaitMachine(MachineState.FAILED);
        assertThat(failed.phase()).isEqualTo(InstancePhase.Failed);
        assertThat(failed.lastFailure().reason()).isEqualTo("MissingFile");

        vm.converge();
        assertThat(vm.settled().machine()).as("the same spec is not tried again").isEqualTo(MachineState.FAILED);
        assertThat(vm.engine.created).hasValue(0);

        vm.newGeneration();
        VmObservation running = vm.await("ready", VmObservation::ready);
        assertThat(running.lastFailure()).isNull();
        assertThat(vm.engine.created).hasValue(1);
    }

    @Test
    void aGuestThatPowersOffUnderOnFailureFinishesAndANewGenerationBootsItAgain() throws Exception {
        vm.want(InstanceState.Running, SuspendMode.Memory, RestartPolicy.OnFailure);
        vm.await("ready", VmObservation::ready);
        FakeEngine.Instance first = vm.emulator();

        first.powerOff();
        VmObservation finished = vm.awaitMachine(MachineState.FINISHED);
        assertThat(finished.phase()).isEqualTo(InstancePhase.Succeeded);
        assertThat(finished.pid()).isNull();
        assertThat(first.destroyed).isTrue();

        vm.newGeneration();
        VmObservation again = vm.await("ready", VmObservation::ready);
        assertThat(again.pid()).isNotEqualTo(first.pid());
        assertThat(again.phase()).isEqualTo(InstancePhase.Running);
    }

    @Test
    void aGuestPanicUnderRestartPolicyNeverFailsTheVmAndSaysWhy() throws Exception {
        vm.want(InstanceState.Running, SuspendMode.Memory, RestartPolicy.Never);
        vm.await("ready", VmObservation::ready);
        vm.emulator().crash("Kernel panic - not syncing");

        VmObservation failed = vm.awaitMachine(MachineState.FAILED);
        assertThat(failed.lastFailure().reason()).isEqualTo("GuestCrashed");
        assertThat(failed.lastFailure().message()).contains("Kernel panic");
        assertThat(failed.pid()).isNull();
    }

    @Test
    void deletingAVmEndsItsEmulatorAndRemovesItsStateDir() throws Exception {
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
        FakeEngine.Instance emulator = vm.emulator();
        assertThat(Files.isDirectory(vm.config.stateDir())).isTrue();

        vm.delete();
        assertThat(emulator.destroyed).isTrue();
        assertThat(vm.config.stateDir()).doesNotExist();
        assertThat(vm.runner.observe().machine()).isEqualTo(MachineState.ABSENT);
    }
}
