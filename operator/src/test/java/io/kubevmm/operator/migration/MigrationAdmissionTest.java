package io.kubevmm.operator.migration;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.operator.migration.MigrationAdmission.Decision;
import io.kubevmm.operator.scheduling.NodeCandidate;
import io.kubevmm.operator.scheduling.Scheduler;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class MigrationAdmissionTest {
    static final long GI = 1L << 30;
    final Scheduler scheduler = new Scheduler(Scheduler.Strategy.SPREAD);
    final Scheduler.Request request = new Scheduler.Request(1, GI, null);
    final MigrationAdmission.Limits limits = new MigrationAdmission.Limits(2, 1);
    final List<NodeCandidate> nodes = List.of(node("node-a", 4 * GI), node("node-b", 4 * GI), node("node-c", 2 * GI));

    static NodeCandidate node(String name, long memFree) {
        return new NodeCandidate(name, Map.of(), false, true, 8, 8 * GI, 0, 8 * GI - memFree);
    }

    static VMMigration migration(String name, String vm, String target, VMMigrationStatus.Phase phase, String source) {
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName(vm);
        spec.setTargetNode(target);
        VMMigration m = new VMMigration();
        m.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").withUid("uid-" + name).build());
        m.setSpec(spec);
        if (phase != null) {
            VMMigrationStatus status = new VMMigrationStatus();
            status.setPhase(phase);
            status.setSourceNode(source);
            m.setStatus(status);
        }
        return m;
    }

    static VirtualMachineInstance vmi(String node, InstancePhase phase, boolean onDisk) {
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setNodeName(node);
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        status.setPhase(phase);
        status.setConditions(List.of(new ConditionBuilder().withType("Paused").withStatus(onDisk ? "True" : "False")
                .withReason(onDisk ? "SuspendedToDisk" : "NotPaused").build()));
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setSpec(spec);
        vmi.setStatus(status);
        return vmi;
    }

    Decision decide(VMMigration m, VirtualMachineInstance vmi, List<VMMigration> others) {
        List<VMMigration> all = new ArrayList<>(others);
        all.add(m);
        return MigrationAdmission.decide(m, vmi, scheduler, request, nodes, all, List.of(), limits);
    }

    @Test
    void aSnapshotBeingTakenOfTheVmGoesFirst() {
        VMSnapshot snapshot = new VMSnapshot();
        snapshot.setMetadata(new ObjectMetaBuilder().withName("before-upgrade").withNamespace("default").build());
        VMSnapshotSpec spec = new VMSnapshotSpec();
        spec.setVmName("vm");
        snapshot.setSpec(spec);
        VMSnapshotStatus status = new VMSnapshotStatus();
        status.setPhase(VMSnapshotStatus.Phase.InProgress);
        snapshot.setStatus(status);
        VMMigration m = migration("m", "vm", null, null, null);

        var decision = MigrationAdmission.decide(m, vmi("node-b", InstancePhase.Running, false), scheduler, request, nodes,
                List.of(m), List.of(snapshot), limits);

        assertThat(decision).isEqualTo(new Decision.Wait("SnapshotInProgress",
                "VMSnapshot before-upgrade of VirtualMachine vm is being taken; the migration starts when it ends"));
    }

    @Test
    void aRunningVmGoesToTheNodeWithMostRoomOtherThanItsOwn() {
        var decision = decide(migration("m", "vm", null, null, null), vmi("node-b", InstancePhase.Running, false), List.of());
        assertThat(decision).isEqualTo(new Decision.Admit("node-b", "node-a"));
    }

    @Test
    void aNamedTargetIsUsedWhenItFits() {
        var decision = decide(migration("m", "vm", "node-c", null, null), vmi("node-a", InstancePhase.Suspended, false), List.of());
        assertThat(decision).isEqualTo(new Decision.Admit("node-a", "node-c"));
    }

    @Test
    void aTargetThatIsTheSourceUnknownOrTooSmallIsRejectedNamingTheField() {
        assertThat(decide(migration("m", "vm", "node-a", null, null), vmi("node-a", InstancePhase.Running, false), List.of()))
                .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.message()).startsWith("spec.targetNode:").contains("already runs on node-a"));
        assertThat(decide(migration("m", "vm", "node-x", null, null), vmi("node-a", InstancePhase.Running, false), List.of()))
                .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.message()).contains("no VMNode named node-x").contains("node-b"));
        var big = MigrationAdmission.decide(migration("m", "vm", "node-c", null, null), vmi("node-a", InstancePhase.Running, false),
                scheduler, new Scheduler.Request(1, 3 * GI, null), nodes, List.of(), List.of(), limits);
        assertThat(big).isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.message()).contains("insufficient memory"));
    }

    @Test
    void onlyRunningOrMemorySuspendedVmsMove() {
        assertThat(decide(migration("m", "vm", null, null, null), vmi("node-a", InstancePhase.Stopped, false), List.of()))
                .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.message()).contains("is Stopped"));
        assertThat(decide(migration("m", "vm", null, null, null), vmi("node-a", InstancePhase.Suspended, true), List.of()))
                .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.message()).contains("suspended to disk"));
        assertThat(decide(migration("m", "vm", null, null, null), null, List.of()))
                .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.message()).startsWith("spec.vmName:"));
    }

    @Test
    void aSecondMigrationOfTheSameVmIsRejected() {
        var other = migration("first", "vm", null, VMMigrationStatus.Phase.Running, "node-a");
        assertThat(decide(migration("m", "vm", null, null, null), vmi("node-a", InstancePhase.Running, false), List.of(other)))
                .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.reason()).isEqualTo("AlreadyMigrating"));
    }

    @Test
    void limitsKeepTheRestPendingWithTheReason() {
        var fromA = migration("one", "vm1", null, VMMigrationStatus.Phase.Running, "node-a");
        assertThat(decide(migration("m", "vm", null, null, null), vmi("node-a", InstancePhase.Running, false), List.of(fromA)))
                .isEqualTo(new Decision.Wait("WaitingForSlot", "1 migrations are leaving node node-a (limit 1 per node)"));
        var fromB = migration("two", "vm2", null, VMMigrationStatus.Phase.TargetReady, "node-b");
        assertThat(decide(migration("m", "vm", null, null, null), vmi("node-c", InstancePhase.Running, false), List.of(fromA, fromB)))
                .isEqualTo(new Decision.Wait("WaitingForSlot", "2 migrations are in flight in the cluster (limit 2)"));
        var finished = migration("old", "vm3", null, VMMigrationStatus.Phase.Succeeded, "node-a");
        assertThat(decide(migration("m", "vm", null, null, null), vmi("node-a", InstancePhase.Running, false), List.of(finished)))
                .isInstanceOf(Decision.Admit.class);
    }
}
