package io.kubevmm.operator.vm;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineStatus;
import io.kubevmm.api.v1alpha1.VmState;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** status.diskNode: where a VM's local disks are, through stops and migrations. */
class DiskNodeTest {

    static VirtualMachine vm(boolean withDisk, String diskNodeBefore) {
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setState(VmState.Running);
        if (withDisk) {
            DiskSpec disk = new DiskSpec();
            disk.setName("data");
            disk.setSize("1Gi");
            spec.setDisks(List.of(disk));
        }
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName("db").withNamespace("default").withGeneration(1L).build());
        vm.setSpec(spec);
        VirtualMachineStatus status = new VirtualMachineStatus();
        status.setDiskNode(diskNodeBefore);
        vm.setStatus(status);
        return vm;
    }

    static VirtualMachineInstance placedOn(VirtualMachine vm, String node) {
        return VmiSpecs.desired(vm, node);
    }

    @Test
    void theDisksAreWhereTheInstanceIsPlaced() {
        VirtualMachine vm = vm(true, null);
        assertThat(VmStatusFactory.diskNode(vm, placedOn(vm, "node-a"))).isEqualTo("node-a");
    }

    @Test
    void withoutAnInstanceTheDisksStayWhereTheyWere() {
        assertThat(VmStatusFactory.diskNode(vm(true, "node-a"), null)).isEqualTo("node-a");
    }

    @Test
    void aMigrationsHandoverMovesTheDiskNodeToTheTarget() {
        VirtualMachine vm = vm(true, "node-a");
        // The handover relabels the instance to the target and sets its nodeName there.
        assertThat(VmStatusFactory.diskNode(vm, placedOn(vm, "node-b"))).isEqualTo("node-b");
    }

    @Test
    void aVmWithoutDisksHasNoDiskNode() {
        VirtualMachine vm = vm(false, null);
        assertThat(VmStatusFactory.diskNode(vm, placedOn(vm, "node-a"))).isNull();
        var status = VmStatusFactory.compute(vm, new VmStatusFactory.Observation(null, "node-a", null, placedOn(vm, "node-a")));
        assertThat(status.getDiskNode()).isNull();
    }

    @Test
    void theComputedStatusCarriesIt() {
        VirtualMachine vm = vm(true, "node-a");
        var defined = VmStatusFactory.compute(vm, new VmStatusFactory.Observation(null, null, null, null));
        assertThat(defined.getDiskNode()).isEqualTo("node-a");
        assertThat(defined.getNodeName()).isNull();
    }
}
