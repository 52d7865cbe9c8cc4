package io.kubevmm.e2e;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.SnapshotArtifact;
import io.kubevmm.api.v1alpha1.VMRestore;
import io.kubevmm.api.v1alpha1.VMRestoreSpec;
import io.kubevmm.api.v1alpha1.VMRestoreStatus;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Snapshots taken by the node runtime that runs the VM (a separate process), of real QEMU
 * guests: what the VMSnapshot reports, what lands in the node's snapshot store, and that the
 * guest never notices beyond its pause.
 */
class SnapshotSystemTest extends ClusterTestBase {
    static final Duration SNAPSHOT = Duration.ofMinutes(3);

    @Override
    String clusterDirName() {
        return "snapshot-test-cluster";
    }

    VMSnapshot snapshot(String name, String vmName, VMSnapshotSpec.Type type) {
        VMSnapshotSpec spec = new VMSnapshotSpec();
        spec.setVmName(vmName);
        spec.setType(type);
        VMSnapshot snapshot = new VMSnapshot();
        snapshot.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        snapshot.setSpec(spec);
        return client.resource(snapshot).create();
    }

    VMSnapshot getSnapshot(String name) {
        return client.resources(VMSnapshot.class).inNamespace("default").withName(name).get();
    }

    VMSnapshot awaitSnapshotPhase(String name, Phase... phases) {
        await().atMost(SNAPSHOT).pollInterval(Duration.ofMillis(50)).until(() -> {
            VMSnapshot s = getSnapshot(name);
            return s != null && s.getStatus() != null && List.of(phases).contains(s.getStatus().getPhase());
        });
        return getSnapshot(name);
    }

    Path store(String node) {
        return cluster.home().nodeStateDir(node).resolve("snapshots");
    }

    /** Every file the node's store holds whose path mentions {@code text}, finished or not. */
    List<Path> storeFiles(String node, String text) throws Exception {
        if (!Files.isDirectory(store(node))) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(store(node))) {
            return walk.filter(p -> p.toString().contains(text)).toList();
        }
    }

    @Test
    void aFullStateSnapshotIsReadyWithItsMeasuredPauseAndTheGuestRunsOn() throws Exception {
        client.resource(vm("snap-full", "256Mi", "memcheck:64")).create();
        awaitPhase("snap-full", VmPhase.Running, true);
        awaitTickAbove("snap-full", 2);
        String node = vmi("snap-full").getSpec().getNodeName();

        snapshot("snap-full-1", "snap-full", VMSnapshotSpec.Type.FullState);
        VMSnapshot ready = awaitSnapshotPhase("snap-full-1", Phase.Ready, Phase.Failed);

        assertThat(ready.getStatus().getPhase()).as("error: %s", ready.getStatus().getError()).isEqualTo(Phase.Ready);
        assertThat(ready.getStatus().getReadyToUse()).isTrue();
        assertThat(ready.getStatus().getNodeName()).isEqualTo(node);
        assertThat(ready.getMetadata().getLabels()).containsEntry("kubevmm.io/node", node);
        assertThat(ready.getStatus().getPauseMillis()).isNotNull().isLessThan(ready.getStatus().getDurationMillis());
        assertThat(ready.getStatus().getSizeBytes()).isGreaterThan(1L << 20);
        assertThat(ready.getStatus().getCreationTime()).isNotBlank();
        SnapshotArtifact state = ready.getStatus().getContents().stream().filter(a -> a.getName().startsWith("state"))
                .findFirst().orElseThrow();
        assertThat(state.getSha256()).matches("[0-9a-f]{64}");
        assertThat(state.getPath()).as("relative to the store, never a host path").isEqualTo("default_snap-full-1/state.bin");
        if (cluster != null) {
            assertThat(storePath(node, state)).exists().hasSize(state.getSizeBytes());
        }
        int tick = lastTick("snap-full");
        awaitTickAbove("snap-full", tick);
        assertThat(console("snap-full")).contains("memcheck ok").doesNotContain("memcheck BAD");

        client.resources(VMSnapshot.class).inNamespace("default").withName("snap-full-1").delete();
        await().atMost(SNAPSHOT).until(() -> getSnapshot("snap-full-1") == null);
        if (cluster != null) {
            assertThat(storePath(node, state)).as("artifacts go with the VMSnapshot").doesNotExist();
        }
        awaitTickAbove("snap-full", lastTick("snap-full"));
        deleteAndAwaitGone("snap-full");
    }

    VMRestore restore(String name, String snapshot, String targetVm) {
        return restore(name, snapshot, targetVm, null);
    }

    VMRestore restore(String name, String snapshot, String targetVm, String targetNode) {
        VMRestoreSpec spec = new VMRestoreSpec();
        spec.setTargetNode(targetNode);
        spec.setSnapshotName(snapshot);
        spec.setTargetVmName(targetVm);
        VMRestore restore = new VMRestore();
        restore.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        restore.setSpec(spec);
        return client.resource(restore).create();
    }

    VMRestore awaitRestoreOutcome(String name) {
        await().atMost(SNAPSHOT).pollInterval(Duration.ofMillis(100)).until(() -> {
            VMRestore r = client.resources(VMRestore.class).inNamespace("default").withName(name).get();
            return r != null && r.getStatus() != null
                    && (r.getStatus().getPhase() == VMRestoreStatus.Phase.Succeeded || r.getStatus().getPhase() == VMRestoreStatus.Phase.Failed);
        });
        return client.resources(VMRestore.class).inNamespace("default").withName(name).get();
    }

    /** The MAC QEMU gives the VM's NIC, from its command line (its node runs on this machine). */
    String qemuMac(String vm) throws Exception {
        long pid = vmi(vm).getStatus().getQemuPid();
        String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
        var m = java.util.regex.Pattern.compile("mac=([0-9a-f:]{17})").matcher(cmdline);
        return m.find() ? m.group(1) : null;
    }

    List<Integer> ticks(String vm) throws Exception {
        return TICK.matcher(console(vm)).results().map(r -> Integer.parseInt(r.group(1))).toList();
    }

    @Test
    void rollingBackToAFullStateSnapshotContinuesFromItsTicksAndACloneRunsOnTheOtherNode() throws Exception {
        VirtualMachine networked = vm("snap-back", "256Mi", "memcheck:64");
        io.kubevmm.api.v1alpha1.NetworkSpec network = new io.kubevmm.api.v1alpha1.NetworkSpec();
        network.setMode(io.kubevmm.api.v1alpha1.NetworkMode.user);
        networked.getSpec().setNetwork(network);
        client.resource(networked).create();
        awaitPhase("snap-back", VmPhase.Running, true);
        awaitTickAbove("snap-back", 2);
        int beforeSnapshot = lastTick("snap-back");
        snapshot("snap-back-1", "snap-back", VMSnapshotSpec.Type.FullState);
        VMSnapshot ready = awaitSnapshotPhase("snap-back-1", Phase.Ready, Phase.Failed);
        assertThat(ready.getStatus().getPhase()).as("error: %s", ready.getStatus().getError()).isEqualTo(Phase.Ready);
        // The guest runs on while its memory is copied: the snapshot's instant lies between these ticks.
        int atReady = lastTick("snap-back");
        awaitTickAbove("snap-back", atReady + 6);
        int beforeRollback = lastTick("snap-back");
        String oldUid = vmi("snap-back").getMetadata().getUid();

        VMRestore rollback = awaitRestoreOutcome(restore("snap-back-r1", "snap-back-1", "snap-back").getMetadata().getName());

        assertThat(rollback.getStatus().getPhase()).as("error: %s", rollback.getStatus().getError()).isEqualTo(VMRestoreStatus.Phase.Succeeded);
        assertThat(rollback.getStatus().getDurationMillis()).isPositive();
        assertThat(rollback.getStatus().getTargetNode()).isEqualTo(ready.getStatus().getNodeName());
        assertThat(vmi("snap-back").getMetadata().getUid()).isNotEqualTo(oldUid);
        awaitPhase("snap-back", VmPhase.Running, true);
        await().atMost(BOOT).ignoreExceptions().until(() -> ticks("snap-back").size() >= 3);
        List<Integer> after = ticks("snap-back");
        assertThat(after.getFirst()).as("the guest continues from the snapshot's tick, not from a reboot or from before the rollback")
                .isBetween(beforeSnapshot, atReady + 1).isLessThan(beforeRollback);
        assertThat(console("snap-back")).doesNotContain("memcheck BAD").doesNotContain("KUBEVMM-GUEST-READY");
        await().atMost(BOOT).ignoreExceptions().until(() -> console("snap-back").contains("memcheck ok"));
        // Cleared, so the VM's next fresh instance boots (the mock API server keeps merge-patched nulls as values).
        var annotations = get("snap-back").getMetadata().getAnnotations();
        assertThat(annotations == null ? null : annotations.get("kubevmm.io/restore-id")).isNull();

        // The clone goes to the other node, which fetches the artifacts and checks their checksums.
        String otherNode = client.resources(io.kubevmm.api.v1alpha1.VMNode.class).list().getItems().stream()
                .map(n -> n.getMetadata().getName()).filter(n -> !n.equals(ready.getStatus().getNodeName())).findFirst().orElseThrow();
        VMRestore clone = awaitRestoreOutcome(restore("snap-fork-r1", "snap-back-1", "snap-fork", otherNode).getMetadata().getName());

        assertThat(clone.getStatus().getPhase()).as("error: %s", clone.getStatus().getError()).isEqualTo(VMRestoreStatus.Phase.Succeeded);
        assertThat(vmi("snap-fork").getSpec().getNodeName()).isEqualTo(otherNode);
        assertThat(vmi("snap-back").getSpec().getNodeName()).isEqualTo(ready.getStatus().getNodeName());
        awaitPhase("snap-fork", VmPhase.Running, true);
        await().atMost(BOOT).ignoreExceptions().until(() -> ticks("snap-fork").size() >= 2);
        assertThat(ticks("snap-fork").getFirst()).as("the clone did not boot: it continues from the snapshot").isBetween(beforeSnapshot, atReady + 1);
        assertThat(vmi("snap-fork").getMetadata().getUid()).isNotEqualTo(vmi("snap-back").getMetadata().getUid());
        awaitTickAbove("snap-back", lastTick("snap-back"));
        assertThat(console("snap-fork")).doesNotContain("memcheck BAD");
        if (cluster != null) {
            assertThat(qemuMac("snap-fork")).as("the clone's NIC has a MAC of its own").isNotNull().isNotEqualTo(qemuMac("snap-back"));
        }

        deleteAndAwaitGone("snap-fork");
        client.resources(VMSnapshot.class).inNamespace("default").withName("snap-back-1").delete();
        await().atMost(SNAPSHOT).until(() -> getSnapshot("snap-back-1") == null);
        deleteAndAwaitGone("snap-back");
    }

    @Test
    void aCloneFromACorruptStateFileFailsNamingTheFileAndTheSourceRunsOn() throws Exception {
        assumeLocalCluster();
        client.resource(vm("snap-bad", "256Mi", "memcheck:64")).create();
        awaitPhase("snap-bad", VmPhase.Running, true);
        awaitTickAbove("snap-bad", 1);
        snapshot("snap-bad-1", "snap-bad", VMSnapshotSpec.Type.FullState);
        VMSnapshot ready = awaitSnapshotPhase("snap-bad-1", Phase.Ready, Phase.Failed);
        assertThat(ready.getStatus().getPhase()).as("error: %s", ready.getStatus().getError()).isEqualTo(Phase.Ready);
        Path state = storePath(ready.getStatus().getNodeName(), ready.getStatus().getContents().stream()
                .filter(a -> a.getName().startsWith("state")).findFirst().orElseThrow());
        try (var file = new java.io.RandomAccessFile(state.toFile(), "rw")) {
            file.seek(file.length() / 2);
            int b = file.read();
            file.seek(file.length() / 2);
            file.write(b ^ 0xff);
        }

        VMRestore failed = awaitRestoreOutcome(restore("snap-bad-r1", "snap-bad-1", "snap-bad-fork").getMetadata().getName());

        assertThat(failed.getStatus().getPhase()).isEqualTo(VMRestoreStatus.Phase.Failed);
        assertThat(failed.getStatus().getError()).contains(state.getFileName().toString());
        awaitTickAbove("snap-bad", lastTick("snap-bad"));
        deleteAndAwaitGone("snap-bad-fork");
        client.resources(VMSnapshot.class).inNamespace("default").withName("snap-bad-1").delete();
        await().atMost(SNAPSHOT).until(() -> getSnapshot("snap-bad-1") == null);
        deleteAndAwaitGone("snap-bad");
    }

    /** Where an artifact named in status (relative to its node's store) is on this machine. */
    Path storePath(String node, SnapshotArtifact artifact) {
        return cluster.home().nodeStateDir(node).resolve("snapshots").resolve(artifact.getPath());
    }

    String lastToken(String vm, String verb) throws Exception {
        var m = java.util.regex.Pattern.compile("disk " + verb + " ([0-9a-f]+)").matcher(console(vm));
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }

    @Test
    void rollingBackToADiskSnapshotBringsBackWhatTheDiskHeldThen() throws Exception {
        VirtualMachine vm = vm("snap-ab", "256Mi", "diskrenew:vda");
        DiskSpec disk = new DiskSpec();
        disk.setName("data");
        disk.setSize("64Mi");
        vm.getSpec().setDisks(List.of(disk));
        client.resource(vm).create();
        awaitPhase("snap-ab", VmPhase.Running, true);
        await().atMost(BOOT).ignoreExceptions().until(() -> lastToken("snap-ab", "wrote") != null);
        String a = lastToken("snap-ab", "wrote");
        VMSnapshot ready = awaitSnapshotPhase(snapshot("snap-ab-1", "snap-ab", VMSnapshotSpec.Type.Disk).getMetadata().getName(),
                Phase.Ready, Phase.Failed);
        assertThat(ready.getStatus().getPhase()).as("error: %s", ready.getStatus().getError()).isEqualTo(Phase.Ready);
        // A reboot writes B over A.
        edit("snap-ab", v -> { v.getSpec().setState(io.kubevmm.api.v1alpha1.VmState.Stopped); return v; });
        awaitPhase("snap-ab", VmPhase.Stopped, false);
        edit("snap-ab", v -> { v.getSpec().setState(io.kubevmm.api.v1alpha1.VmState.Running); return v; });
        awaitPhase("snap-ab", VmPhase.Running, true);
        await().atMost(BOOT).ignoreExceptions().until(() -> !a.equals(lastToken("snap-ab", "wrote")));
        assertThat(lastToken("snap-ab", "found")).isEqualTo(a);

        VMRestore rollback = awaitRestoreOutcome(restore("snap-ab-r1", "snap-ab-1", "snap-ab").getMetadata().getName());

        assertThat(rollback.getStatus().getPhase()).as("error: %s", rollback.getStatus().getError()).isEqualTo(VMRestoreStatus.Phase.Succeeded);
        awaitPhase("snap-ab", VmPhase.Running, true);
        await().atMost(BOOT).ignoreExceptions().until(() -> lastToken("snap-ab", "found") != null);
        assertThat(lastToken("snap-ab", "found")).as("the disk holds A again, as when the snapshot was taken").isEqualTo(a);
        client.resources(VMSnapshot.class).inNamespace("default").withName("snap-ab-1").delete();
        await().atMost(SNAPSHOT).until(() -> getSnapshot("snap-ab-1") == null);
        deleteAndAwaitGone("snap-ab");
    }

    @Test
    void aDiskSnapshotKeepsTheGuestRunningAndStoresTheDiskLayer() throws Exception {
        VirtualMachine vm = vm("snap-disk", "256Mi", "disk:vda");
        DiskSpec disk = new DiskSpec();
        disk.setName("data");
        disk.setSize("64Mi");
        vm.getSpec().setDisks(List.of(disk));
        client.resource(vm).create();
        awaitPhase("snap-disk", VmPhase.Running, true);
        await().atMost(BOOT).ignoreExceptions().until(() -> console("snap-disk").contains("disk wrote "));

        snapshot("snap-disk-1", "snap-disk", VMSnapshotSpec.Type.Disk);
        VMSnapshot ready = awaitSnapshotPhase("snap-disk-1", Phase.Ready, Phase.Failed);

        assertThat(ready.getStatus().getPhase()).as("error: %s", ready.getStatus().getError()).isEqualTo(Phase.Ready);
        assertThat(ready.getStatus().getPauseMillis()).isZero();
        assertThat(ready.getStatus().getContents()).isNotEmpty()
                .allSatisfy(a -> assertThat(a.getSha256()).matches("[0-9a-f]{64}"))
                .noneMatch(a -> a.getName().startsWith("state"));
        awaitTickAbove("snap-disk", lastTick("snap-disk"));
        client.resources(VMSnapshot.class).inNamespace("default").withName("snap-disk-1").delete();
        await().atMost(SNAPSHOT).until(() -> getSnapshot("snap-disk-1") == null);
        deleteAndAwaitGone("snap-disk");
    }

    @Test
    void aSnapshotOfAnUnknownVmFailsNamingTheField() {
        snapshot("snap-ghost-1", "ghost", null);

        VMSnapshot failed = awaitSnapshotPhase("snap-ghost-1", Phase.Failed, Phase.Ready);

        assertThat(failed.getStatus().getPhase()).isEqualTo(Phase.Failed);
        assertThat(failed.getStatus().getError()).isEqualTo("VMNotFound: spec.vmName: there is no VirtualMachine ghost in namespace default");
        client.resources(VMSnapshot.class).inNamespace("default").withName("snap-ghost-1").delete();
    }

    @Test
    void killingTheNodeRuntimeMidSnapshotLeavesNoSnapshotAndTheVmRunning() throws Exception {
        assumeLocalCluster();
        client.resource(vm("snap-kill", "1Gi", "memcheck:64,dirty:96:400")).create();
        awaitPhase("snap-kill", VmPhase.Running, true);
        awaitTickAbove("snap-kill", 2);
        String node = vmi("snap-kill").getSpec().getNodeName();

        snapshot("snap-kill-1", "snap-kill", VMSnapshotSpec.Type.FullState);
        VMSnapshot inProgress = awaitSnapshotPhase("snap-kill-1", Phase.InProgress, Phase.Ready, Phase.Failed);
        assertThat(inProgress.getStatus().getPhase()).isEqualTo(Phase.InProgress);
        cluster.kill9(node);
        cluster.restart(node);

        VMSnapshot failed = awaitSnapshotPhase("snap-kill-1", Phase.Failed, Phase.Ready);
        assertThat(failed.getStatus().getPhase()).isEqualTo(Phase.Failed);
        assertThat(failed.getStatus().getError()).startsWith("Interrupted: the node runtime on " + node + " restarted");
        assertThat(failed.getStatus().getReadyToUse()).isFalse();
        assertThat(storeFiles(node, "snap-kill")).as("nothing of the interrupted snapshot is left in the store").isEmpty();
        awaitPhase("snap-kill", VmPhase.Running, true);
        awaitTickAbove("snap-kill", lastTick("snap-kill"));
        assertThat(console("snap-kill")).doesNotContain("memcheck BAD");

        client.resources(VMSnapshot.class).inNamespace("default").withName("snap-kill-1").delete();
        await().atMost(SNAPSHOT).until(() -> getSnapshot("snap-kill-1") == null);
        deleteAndAwaitGone("snap-kill");
    }
}
