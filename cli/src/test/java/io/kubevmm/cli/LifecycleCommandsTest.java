package io.kubevmm.cli;

import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.api.v1alpha1.VirtualMachine;
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
        assertThat(stop.out()).isEqualTo("virtualmachine.kubevmm.io/demo patched (spec.state=Defined)\n"
                + "the guest is shut down and its memory released; the VM has no disks\n");
        assertThat(vm("demo").getSpec().getState()).isEqualTo(VmState.Defined);

        assertThat(kubevmm("start", "demo").code()).isZero();
        assertThat(vm("demo").getSpec().getState()).isEqualTo(VmState.Running);
    }

    @Test
    void stopSaysWhichNodeKeepsTheDisksAndWhatRemovesThem() {
        VirtualMachine vm = createVm("db");
        io.kubevmm.api.v1alpha1.DiskSpec disk = new io.kubevmm.api.v1alpha1.DiskSpec();
        disk.setName("data");
        disk.setSize("64Mi");
        client.resources(VirtualMachine.class).inNamespace("default").withName("db")
                .edit(v -> { v.getSpec().setDisks(java.util.List.of(disk)); return v; });
        setVmStatus("db", VmPhase.Running, "node-a");
        client.resources(VirtualMachine.class).inNamespace("default").withName("db").editStatus(v -> {
            v.getStatus().setDiskNode("node-a");
            return v;
        });

        Run stop = kubevmm("stop", "db");

        assertThat(stop.code()).isZero();
        assertThat(stop.out()).endsWith("disks are kept on node-a; `kubevmm delete vm db` removes them\n");
        assertThat(vm.getMetadata().getName()).isEqualTo("db");
        assertThat(new picocli.CommandLine(new StopCommand()).getUsageMessage())
                .contains("disks are kept on the node that holds them").contains("kubevmm delete vm NAME");
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
