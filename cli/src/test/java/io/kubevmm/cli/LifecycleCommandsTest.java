package io.kubevmm.cli;

import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.api.v1alpha1.VmState;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LifecycleCommandsTest extends MockClusterTest {

    @Test
    void stopSetsDefinedAndStartSetsRunning() {
        createVm("demo");

        Run stop = kubevmm("stop", "demo");
        assertThat(stop.code()).isZero();
        assertThat(stop.out()).isEqualTo("virtualmachine.kubevmm.io/demo patched (spec.state=Defined)\n");
        assertThat(vm("demo").getSpec().getState()).isEqualTo(VmState.Defined);

        assertThat(kubevmm("start", "demo").code()).isZero();
        assertThat(vm("demo").getSpec().getState()).isEqualTo(VmState.Running);
    }

    @Test
    void stopHaltKeepsTheInstanceStopped() {
        createVm("demo");

        kubevmm("stop", "--halt", "demo");

        assertThat(vm("demo").getSpec().getState()).isEqualTo(VmState.Stopped);
    }

    @Test
    void suspendToDiskSetsSuspendModeDiskAndResumeLeavesItAlone() {
        createVm("demo");

        Run suspend = kubevmm("suspend", "demo", "--to-disk");
        assertThat(suspend.out()).isEqualTo("virtualmachine.kubevmm.io/demo patched (spec.state=Suspended, spec.suspendMode=Disk)\n");
        assertThat(vm("demo").getSpec().getState()).isEqualTo(VmState.Suspended);
        assertThat(vm("demo").getSpec().getSuspendMode()).isEqualTo(SuspendMode.Disk);

        kubevmm("resume", "demo");
        assertThat(vm("demo").getSpec().getState()).isEqualTo(VmState.Running);
        assertThat(vm("demo").getSpec().getSuspendMode()).isEqualTo(SuspendMode.Disk);
    }

    @Test
    void plainSuspendKeepsTheVmsOwnSuspendModeAndInMemoryOverridesIt() {
        createVm("demo");

        kubevmm("suspend", "demo");
        assertThat(vm("demo").getSpec().getState()).isEqualTo(VmState.Suspended);
        assertThat(vm("demo").getSpec().getSuspendMode()).isNull();

        kubevmm("suspend", "demo", "--in-memory");
        assertThat(vm("demo").getSpec().getSuspendMode()).isEqualTo(SuspendMode.Memory);
    }

    @Test
    void patchingStateLeavesTheRestOfSpecAndStatus() {
        createVm("demo");
        setVmStatus("demo", VmPhase.Running, "node-a", condition("Ready", "True", "GuestReady", "ready"));

        kubevmm("suspend", "demo");

        assertThat(vm("demo").getSpec().getMemory()).isEqualTo("256Mi");
        assertThat(vm("demo").getSpec().getBoot().getKernel().getPath()).isEqualTo("vmlinuz");
        assertThat(vm("demo").getStatus().getNodeName()).isEqualTo("node-a");
    }

    @Test
    void startingARunningVmSaysUnchanged() {
        createVm("demo");

        assertThat(kubevmm("start", "demo").out()).isEqualTo("virtualmachine.kubevmm.io/demo unchanged (spec.state=Running already)\n");
    }

    @Test
    void lifecycleVerbsOnAMissingVmSayNotFound() {
        Run run = kubevmm("-n", "team-a", "start", "ghost");

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("error: virtualmachine \"ghost\" not found in namespace team-a\n");
    }

    @Test
    void deleteRemovesTheObject() {
        createVm("demo");

        Run run = kubevmm("delete", "vm", "demo");

        assertThat(run.out()).isEqualTo("virtualmachine.kubevmm.io \"demo\" deleted\n");
        assertThat(vm("demo")).isNull();
        assertThat(kubevmm("delete", "vm", "demo").err()).isEqualTo("error: virtualmachine \"demo\" not found in namespace default\n");
    }
}
