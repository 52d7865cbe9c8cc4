package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.VMRestore;
import io.kubevmm.api.v1alpha1.VMRestoreStatus;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class SnapshotCommandTest extends MockClusterTest {

    List<VMSnapshot> snapshots() {
        return client.resources(VMSnapshot.class).inNamespace("default").list().getItems();
    }

    List<VMRestore> restores() {
        return client.resources(VMRestore.class).inNamespace("default").list().getItems();
    }

    void setSnapshotStatus(String name, Consumer<VMSnapshotStatus> change) {
        VMSnapshot s = client.resources(VMSnapshot.class).inNamespace("default").withName(name).get();
        VMSnapshotStatus status = s.getStatus() == null ? new VMSnapshotStatus() : s.getStatus();
        change.accept(status);
        s.setStatus(status);
        client.resources(VMSnapshot.class).inNamespace("default").resource(s).updateStatus();
    }

    void setRestoreStatus(String name, Consumer<VMRestoreStatus> change) {
        VMRestore r = client.resources(VMRestore.class).inNamespace("default").withName(name).get();
        VMRestoreStatus status = r.getStatus() == null ? new VMRestoreStatus() : r.getStatus();
        change.accept(status);
        r.setStatus(status);
        client.resources(VMRestore.class).inNamespace("default").resource(r).updateStatus();
    }

    VMSnapshot readySnapshot(String name, String vm) {
        VMSnapshot s = new VMSnapshot();
        s.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        VMSnapshotSpec spec = new VMSnapshotSpec();
        spec.setVmName(vm);
        s.setSpec(spec);
        client.resource(s).create();
        setSnapshotStatus(name, st -> { st.setPhase(VMSnapshotStatus.Phase.Ready); st.setNodeName("node-a"); });
        return s;
    }

    @Test
    void snapshotCreatesTheRequestAndReportsWhatTheNodeMeasured() throws Exception {
        createVm("demo");
        var node = inBackground(() -> {
            await().until(() -> !snapshots().isEmpty());
            String name = snapshots().getFirst().getMetadata().getName();
            setSnapshotStatus(name, s -> { s.setPhase(VMSnapshotStatus.Phase.InProgress); s.setNodeName("node-a"); });
            sleep(300);
            setSnapshotStatus(name, s -> { s.setPhase(VMSnapshotStatus.Phase.Ready); s.setPauseMillis(4L);
                s.setDurationMillis(1830L); s.setSizeBytes(200L << 20); s.setReadyToUse(true); });
        });

        Run run = kubevmm("snapshot", "demo", "--name", "before-upgrade", "--interval", "100ms", "--timeout", "20s");
        node.get(10, TimeUnit.SECONDS);

        assertThat(run.code()).as(run.err()).isZero();
        VMSnapshot created = snapshots().getFirst();
        assertThat(created.getMetadata().getName()).isEqualTo("before-upgrade");
        assertThat(created.getSpec().getVmName()).isEqualTo("demo");
        assertThat(run.out()).contains("vmsnapshot/before-upgrade created: FullState snapshot of vm/demo")
                .contains("InProgress  on node-a")
                .contains("vmsnapshot/before-upgrade ready on node-a: guest paused 4 ms, took 1830 ms, 200.0 MiB stored");
    }

    @Test
    void aSnapshotThatFailsExitsOneWithTheNodesReason() {
        createVm("demo");
        inBackground(() -> {
            await().until(() -> !snapshots().isEmpty());
            setSnapshotStatus(snapshots().getFirst().getMetadata().getName(), s -> { s.setPhase(VMSnapshotStatus.Phase.Failed);
                s.setError("VMNotRunning: spec.vmName: VirtualMachine demo does not run on any node"); });
        });

        Run run = kubevmm("snapshot", "demo", "--type", "Disk", "--interval", "100ms", "--timeout", "20s");

        assertThat(run.code()).isEqualTo(1);
        assertThat(snapshots().getFirst().getSpec().getType()).isEqualTo(VMSnapshotSpec.Type.Disk);
        assertThat(run.err()).contains("failed: VMNotRunning: spec.vmName: VirtualMachine demo does not run on any node");
        assertThat(kubevmm("snapshot", "ghost").err()).contains("virtualmachine \"ghost\" not found");
    }

    @Test
    void restoreAsCreatesACloneRequestAndFollowsItUntilTheVmRuns() throws Exception {
        createVm("demo");
        readySnapshot("s1", "demo");
        var operator = inBackground(() -> {
            await().until(() -> !restores().isEmpty());
            String name = restores().getFirst().getMetadata().getName();
            setRestoreStatus(name, r -> { r.setPhase(VMRestoreStatus.Phase.InProgress); r.setTargetNode("node-b"); });
            sleep(300);
            setRestoreStatus(name, r -> { r.setPhase(VMRestoreStatus.Phase.Succeeded); r.setDurationMillis(640L); });
        });

        Run run = kubevmm("restore", "s1", "--as", "fork", "--node", "node-b", "--interval", "100ms", "--timeout", "20s");
        operator.get(10, TimeUnit.SECONDS);

        assertThat(run.code()).as(run.err()).isZero();
        VMRestore created = restores().getFirst();
        assertThat(created.getSpec().getSnapshotName()).isEqualTo("s1");
        assertThat(created.getSpec().getTargetVmName()).isEqualTo("fork");
        assertThat(created.getSpec().getTargetNode()).isEqualTo("node-b");
        assertThat(run.out()).contains("cloning vmsnapshot/s1 into new vm/fork").contains("InProgress  on node-b")
                .contains("vm/fork cloned from vmsnapshot/s1 on node-b in 640 ms");
    }

    @Test
    void restoreWithoutAsRollsTheSnapshotsVmBack() {
        createVm("demo");
        readySnapshot("s1", "demo");

        Run run = kubevmm("restore", "s1", "--no-wait");

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(restores().getFirst().getSpec().getTargetVmName()).isEqualTo("demo");
        assertThat(run.out()).contains("rolling vm/demo back to vmsnapshot/s1");
        assertThat(kubevmm("restore", "nope").err()).contains("vmsnapshot \"nope\" not found");
    }

    @Test
    void aSnapshotStillInProgressWhenFollowingStopsIsLeftRunningAndTheMessageSaysWhereToLook() {
        createVm("demo");

        Run run = kubevmm("snapshot", "demo", "--name", "slow", "--interval", "100ms", "--timeout", "300ms");

        assertThat(run.code()).isNotZero();
        assertThat(run.err()).contains("stopped following after 300ms; the snapshot goes on: kubevmm get vmsnap slow");
        assertThat(snapshots()).extracting(sn -> sn.getMetadata().getName()).containsExactly("slow");
    }

    @Test
    void restoreHelpSaysAnUnsetNodeIsTheSnapshotsNode() {
        Run help = kubevmm("restore", "--help");

        String text = help.out().replaceAll("\\s+", " "); // picocli wraps long descriptions
        assertThat(text).contains("--node=NODE Node to restore onto (default: the node that holds the snapshot)",
                        "--no-wait", "--timeout=DURATION")
                .doesNotContain("scheduler").doesNotContain("--interval");
    }
}
