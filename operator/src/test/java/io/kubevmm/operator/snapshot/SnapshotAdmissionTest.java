package io.kubevmm.operator.snapshot;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.operator.snapshot.SnapshotAdmission.Decision;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SnapshotAdmissionTest {
    final VirtualMachine vm = new VirtualMachine();

    static VMSnapshot snapshot(String name, VMSnapshotSpec.Type type, VMSnapshotStatus.Phase phase) {
        VMSnapshot s = new VMSnapshot();
        s.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").withUid("uid-" + name).build());
        VMSnapshotSpec spec = new VMSnapshotSpec();
        spec.setVmName("demo");
        spec.setType(type);
        s.setSpec(spec);
        if (phase != null) {
            VMSnapshotStatus status = new VMSnapshotStatus();
            status.setPhase(phase);
            s.setStatus(status);
        }
        return s;
    }

    static VirtualMachineInstance vmi(InstancePhase phase, boolean onDisk) {
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setNodeName("node-a");
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        status.setPhase(phase);
        status.setConditions(List.of(new ConditionBuilder().withType("Paused").withStatus(onDisk ? "True" : "False")
                .withReason(onDisk ? "SuspendedToDisk" : "NotPaused").build()));
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setSpec(spec);
        vmi.setStatus(status);
        return vmi;
    }

    static VMMigration migration(VMMigrationStatus.Phase phase) {
        VMMigration m = new VMMigration();
        m.setMetadata(new ObjectMetaBuilder().withName("demo-move").withNamespace("default").build());
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName("demo");
        m.setSpec(spec);
        VMMigrationStatus status = new VMMigrationStatus();
        status.setPhase(phase);
        m.setStatus(status);
        return m;
    }

    Decision decide(VMSnapshot s, VirtualMachineInstance vmi, List<VMMigration> migrations, List<VMSnapshot> others) {
        return SnapshotAdmission.decide(s, vm, vmi, migrations, others);
    }

    @Test
    void theNodeRunningTheVmTakesIt() {
        assertThat(decide(snapshot("s1", null, null), vmi(InstancePhase.Running, false), List.of(), List.of()))
                .isEqualTo(new Decision.Admit("node-a"));
        assertThat(decide(snapshot("s1", VMSnapshotSpec.Type.FullState, null), vmi(InstancePhase.Suspended, false), List.of(), List.of()))
                .isEqualTo(new Decision.Admit("node-a"));
        assertThat(decide(snapshot("s1", VMSnapshotSpec.Type.Disk, null), vmi(InstancePhase.Suspended, true), List.of(), List.of()))
                .isEqualTo(new Decision.Admit("node-a"));
        assertThat(decide(snapshot("s1", VMSnapshotSpec.Type.Disk, null), vmi(InstancePhase.Stopped, false), List.of(), List.of()))
                .isEqualTo(new Decision.Admit("node-a"));
        assertThat(decide(snapshot("s1", VMSnapshotSpec.Type.FullState, null), vmi(InstancePhase.Stopped, false), List.of(), List.of()))
                .isEqualTo(new Decision.Reject("VMNotRunning",
                        "spec.type: VirtualMachine demo is stopped and has no memory state; use type Disk, or start it first"));
    }

    @Test
    void aMissingOrStoppedVmIsRejectedNamingTheField() {
        assertThat(SnapshotAdmission.decide(snapshot("s1", null, null), null, null, List.of(), List.of()))
                .isEqualTo(new Decision.Reject("VMNotFound", "spec.vmName: there is no VirtualMachine demo in namespace default"));
        assertThat(decide(snapshot("s1", null, null), null, List.of(), List.of()))
                .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.message())
                        .isEqualTo("spec.vmName: VirtualMachine demo does not run on any node; a FullState snapshot needs its memory: start it first"));
        assertThat(decide(snapshot("s1", VMSnapshotSpec.Type.FullState, null), vmi(InstancePhase.Suspended, true), List.of(), List.of()))
                .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.message()).startsWith("spec.type: VirtualMachine demo is suspended to disk"));
    }

    @Test
    void duringAMigrationOrAnotherSnapshotItWaitsWithTheReason() {
        assertThat(decide(snapshot("s1", null, null), vmi(InstancePhase.Running, false),
                List.of(migration(VMMigrationStatus.Phase.Running)), List.of()))
                .isEqualTo(new Decision.Wait("Migrating",
                        "VirtualMachine demo is being live-migrated by VMMigration demo-move; the snapshot is taken when it ends"));
        assertThat(decide(snapshot("s1", null, null), vmi(InstancePhase.Running, false),
                List.of(migration(VMMigrationStatus.Phase.Succeeded)), List.of(snapshot("s0", null, VMSnapshotStatus.Phase.InProgress))))
                .isEqualTo(new Decision.Wait("SnapshotInProgress", "VMSnapshot s0 of the same VM is being taken; this one follows"));
        assertThat(decide(snapshot("s1", null, null), vmi(InstancePhase.Running, false),
                List.of(migration(VMMigrationStatus.Phase.Failed)), List.of(snapshot("s0", null, VMSnapshotStatus.Phase.Ready))))
                .isEqualTo(new Decision.Admit("node-a"));
    }
}
