package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstanceState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fence gate on the fake engine: a guest another node may restart (highAvailability Restart)
 * is neither booted nor restarted after a crash while the node cannot prove it holds its Lease,
 * and boots once it can, asked again every second.
 */
class FenceGateTest {
    @TempDir
    Path dir;

    FakeVm vm;

    @AfterEach
    void tearDown() throws Exception {
        vm.close();
    }

    @Test
    void noBootWhileFencedAndABootOnceTheLeaseIsHeldAgain() throws Exception {
        vm = new FakeVm(dir, "ha").adopt();
        vm.mayBoot = false;
        vm.want(InstanceState.Running);
        VmObservation held = vm.settled();
        assertThat(vm.done).as("no emulator is even created").doesNotContain(Action.CREATE, Action.START);
        assertThat(vm.engine.created).hasValue(0);
        assertThat(held.machine()).isNotEqualTo(MachineState.RUNNING);

        vm.time.advance(Duration.ofSeconds(1));
        vm.settled();
        assertThat(vm.done).as("still fenced a second later").doesNotContain(Action.START);

        vm.mayBoot = true;
        vm.time.advance(Duration.ofSeconds(1));
        vm.awaitMachine(MachineState.RUNNING);
        assertThat(vm.done).contains(Action.START);
    }

    @Test
    void aFencedGuestThatWasKilledIsNotRestartedUntilTheLeaseIsHeld() throws Exception {
        vm = new FakeVm(dir, "ha").adopt();
        vm.want(InstanceState.Running);
        vm.awaitMachine(MachineState.RUNNING);

        vm.mayBoot = false; // the node lost its Lease; its fencing killed the guest
        vm.emulator().exit(137); // SIGKILL
        vm.settled();
        vm.time.advance(Duration.ofMinutes(1));
        vm.settled();
        assertThat(vm.done).as("no restart while fenced").doesNotContain(Action.RESTART_GUEST);
        assertThat(vm.runner.observe().pid()).as("and no new emulator").isNull();

        vm.mayBoot = true;
        vm.time.advance(Duration.ofMinutes(1));
        vm.await("restarted", o -> o.machine() == MachineState.RUNNING && o.pid() != null);
    }
}
