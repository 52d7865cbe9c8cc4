package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.lifecycle.VmObservation.RestartWait;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A guest that keeps going down is restarted at once the first time, then with exponentially
 * growing waits up to 5 minutes, each reported while it lasts; on the fake engine and a clock the
 * test moves.
 */
class CrashLoopBackoffTest {
    @TempDir
    Path dir;

    FakeVm vm;

    @BeforeEach
    void setUp() throws Exception {
        vm = new FakeVm(dir, "looping").adopt();
    }

    @AfterEach
    void tearDown() throws Exception {
        vm.close();
    }

    /** Crashes the guest a few seconds into its boot and returns the wait its next restart gets (null: restarted at once). */
    private RestartWait crashSoonAfterBoot(int restartsSoFar) throws Exception {
        vm.time.advance(Duration.ofSeconds(3));
        vm.emulator().crash("Kernel panic - not syncing: attempted to kill init");
        VmObservation after = vm.await("went down and was handled", o -> o.restartWait() != null || o.restartCount() > restartsSoFar);
        return after.restartWait();
    }

    @Test
    void aCrashLoopingGuestBacksOffExponentiallyUpToFiveMinutesAndEachWaitIsReported() throws Exception {
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);

        assertThat(crashSoonAfterBoot(0)).as("the first restart comes at once").isNull();
        assertThat(vm.await("restarted", o -> o.restartCount() == 1 && o.ready()).restartWait()).isNull();

        List<Long> waits = new ArrayList<>();
        for (int restart = 2; restart <= 8; restart++) {
            RestartWait wait = crashSoonAfterBoot(restart - 1);
            assertThat(wait).as("restart %d is held back", restart).isNotNull();
            assertThat(wait.restart()).isEqualTo(restart);
            assertThat(wait.at()).isEqualTo(vm.time.now().plus(wait.delay()));
            VmObservation waiting = vm.settled();
            assertThat(waiting.machine()).isEqualTo(MachineState.CRASHED);
            assertThat(waiting.lastFailure().reason()).as("why it is down stays visible").isEqualTo("GuestCrashed");
            assertThat(waiting.restartCount()).isEqualTo(restart - 1);
            waits.add(wait.delay().toSeconds());

            vm.time.advance(wait.delay().minusMillis(1));
            assertThat(vm.settled().restartCount()).as("not before its time").isEqualTo(restart - 1);
            vm.time.advance(Duration.ofMillis(1));
            int expected = restart;
            VmObservation restarted = vm.await("restart " + restart, o -> o.restartCount() == expected && o.ready());
            assertThat(restarted.restartWait()).isNull();
            assertThat(restarted.lastFailure()).isNull();
        }
        assertThat(waits).containsExactly(10L, 20L, 40L, 80L, 160L, 300L, 300L);
    }

    @Test
    void aGuestThatStayedUpTenMinutesIsRestartedAtOnceAgain() throws Exception {
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
        assertThat(crashSoonAfterBoot(0)).isNull();
        vm.await("restarted", o -> o.restartCount() == 1 && o.ready());
        RestartWait wait = crashSoonAfterBoot(1);
        assertThat(wait).isNotNull();
        vm.time.advance(wait.delay());
        vm.await("restarted", o -> o.restartCount() == 2 && o.ready());

        vm.time.advance(Duration.ofMinutes(10));
        assertThat(crashSoonAfterBoot(2)).as("ten minutes up: not a loop").isNull();
        vm.await("restarted", o -> o.restartCount() == 3 && o.ready());
    }

    @Test
    void aNewSpecGenerationRestartsAWaitingGuestAtOnceAndForgetsTheLoop() throws Exception {
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
        crashSoonAfterBoot(0);
        vm.await("restarted", o -> o.restartCount() == 1 && o.ready());
        vm.time.advance(crashSoonAfterBoot(1).delay());
        vm.await("restarted", o -> o.restartCount() == 2 && o.ready());
        assertThat(crashSoonAfterBoot(2).delay()).isEqualTo(Duration.ofSeconds(20));

        vm.newGeneration();
        VmObservation restarted = vm.await("restarted", o -> o.restartCount() == 3 && o.ready());
        assertThat(restarted.restartWait()).isNull();
        RestartWait next = crashSoonAfterBoot(3);
        assertThat(next.restart()).as("counted from the new generation on").isEqualTo(2);
        assertThat(next.delay()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void aPowerOffLoopUnderRestartPolicyAlwaysBacksOffToo() throws Exception {
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
        vm.emulator().powerOff();
        vm.await("restarted", o -> o.restartCount() == 1 && o.ready());

        vm.time.advance(Duration.ofSeconds(1));
        vm.emulator().powerOff();
        VmObservation waiting = vm.await("held back", o -> o.restartWait() != null);
        assertThat(waiting.machine()).isEqualTo(MachineState.POWERED_OFF);
        assertThat(waiting.restartWait().delay()).isEqualTo(Duration.ofSeconds(10));
        assertThat(vm.emulator().calls).as("restarted in the same emulator").containsOnlyOnce("reset");
    }

    @Test
    void aHeldRestartIsReportedOnceNotAtEveryReconcile() throws Exception {
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
        crashSoonAfterBoot(0);
        vm.await("restarted", o -> o.restartCount() == 1 && o.ready());
        crashSoonAfterBoot(1);
        vm.settled();
        int changes = vm.changes.get();

        for (int i = 0; i < 5; i++) {
            vm.converge();
        }
        vm.settled();
        assertThat(vm.changes.get()).as("status refreshes asked for by reconciles during the wait").isEqualTo(changes);
        assertThat(vm.time.pendingDelays()).as("one wake-up, not one per reconcile").containsExactly(Duration.ofSeconds(10));
    }

    @Test
    void stoppingAGuestThatWaitsForItsRestartNeedsNoWait() throws Exception {
        vm.want(InstanceState.Running);
        vm.await("ready", VmObservation::ready);
        crashSoonAfterBoot(0);
        vm.await("restarted", o -> o.restartCount() == 1 && o.ready());
        assertThat(crashSoonAfterBoot(1)).isNotNull();

        vm.want(InstanceState.Stopped);
        VmObservation stopped = vm.awaitMachine(MachineState.CREATED);
        assertThat(stopped.restartWait()).isNull();
    }

    @Test
    void anEmulatorThatDiesIsReplacedAndTheFailureNamesItsExit() throws Exception {
        vm.want(InstanceState.Running, SuspendMode.Memory, RestartPolicy.OnFailure);
        vm.await("ready", VmObservation::ready);
        FakeEngine.Instance first = vm.emulator();

        first.exit(137);
        VmObservation restarted = vm.await("restarted", o -> o.restartCount() == 1 && o.ready());
        assertThat(restarted.pid()).isNotEqualTo(first.pid());
        assertThat(vm.engine.created).hasValue(2);

        vm.time.advance(Duration.ofSeconds(2));
        vm.emulator().exit(137);
        VmObservation waiting = vm.await("held back", o -> o.restartWait() != null);
        assertThat(waiting.pid()).isNull();
        assertThat(waiting.lastFailure().reason()).isEqualTo("EmulatorExited");
        assertThat(waiting.lastFailure().message()).contains("code 137");
    }
}
