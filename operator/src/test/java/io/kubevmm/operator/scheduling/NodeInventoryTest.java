package io.kubevmm.operator.scheduling;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class NodeInventoryTest {
    static final long MI = 1L << 20;

    static VirtualMachineInstance vmi(String name, String node, int cpu, String memory) {
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName(name).build());
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setNodeName(node);
        spec.setCpu(cpu);
        spec.setMemory(memory);
        vmi.setSpec(spec);
        return vmi;
    }

    static VMMigration migration(String vm, Phase phase, String target) {
        VMMigration m = new VMMigration();
        m.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName(vm + "-mig").build());
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName(vm);
        m.setSpec(spec);
        VMMigrationStatus status = new VMMigrationStatus();
        status.setPhase(phase);
        status.setTargetNode(target);
        m.setStatus(status);
        return m;
    }

    @Test
    void aVmMigratingOntoANodeCountsThereAsWellAsOnItsSource() {
        var used = NodeInventory.usage(List.of(vmi("big", "node-a", 2, "1Gi"), vmi("small", "node-b", 1, "256Mi")),
                List.of(migration("big", Phase.Running, "node-b")), "default", "other");

        assertThat(used.get("node-a")).isEqualTo(new NodeInventory.Usage(2, 1024 * MI));
        assertThat(used.get("node-b")).isEqualTo(new NodeInventory.Usage(3, 1280 * MI));
    }

    @Test
    void finishedOrUnplacedMigrationsAndTheVmBeingScheduledHoldNothing() {
        var vmis = List.of(vmi("done", "node-b", 1, "512Mi"), vmi("waiting", "node-a", 1, "512Mi"),
                vmi("failed", "node-a", 1, "512Mi"), vmi("self", "node-a", 4, "2Gi"));
        var migrations = List.of(
                migration("done", Phase.Succeeded, "node-b"),
                migration("waiting", Phase.Pending, null),
                migration("failed", Phase.Failed, "node-b"),
                migration("self", Phase.Scheduling, "node-b"));

        var used = NodeInventory.usage(vmis, migrations, "default", "self");

        assertThat(used.get("node-a")).isEqualTo(new NodeInventory.Usage(2, 1024 * MI));
        assertThat(used.get("node-b")).isEqualTo(new NodeInventory.Usage(1, 512 * MI));
    }
}
