package io.kubevmm.cli;

import io.kubevmm.api.v1alpha1.EvacuationStatus;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class MigrateCommandTest extends MockClusterTest {

    List<VMMigration> migrations() {
        return client.resources(VMMigration.class).inNamespace("default").list().getItems();
    }

    void setMigrationStatus(String name, Consumer<VMMigrationStatus> change) {
        VMMigration m = client.resources(VMMigration.class).inNamespace("default").withName(name).get();
        VMMigrationStatus status = m.getStatus() == null ? new VMMigrationStatus() : m.getStatus();
        change.accept(status);
        m.setStatus(status);
        client.resources(VMMigration.class).inNamespace("default").resource(m).updateStatus();
    }

    @Test
    void migrateCreatesTheRequestAndFollowsItToTheMeasuredDowntime() throws Exception {
        createVm("demo");
        CompletableFuture<Void> nodes = inBackground(() -> {
            await().until(() -> !migrations().isEmpty());
            String name = migrations().getFirst().getMetadata().getName();
            setMigrationStatus(name, s -> { s.setPhase(Phase.Scheduling); s.setSourceNode("node-a"); s.setTargetNode("node-b"); });
            sleep(300);
            setMigrationStatus(name, s -> { s.setPhase(Phase.Running); s.setIterations(2L); s.setTransferredBytes(200L << 20);
                s.setRemainingBytes(16L << 20); s.setDirtyRateBytesPerSecond(8L << 20); s.setThrottlePercent(20); });
            sleep(300);
            setMigrationStatus(name, s -> { s.setPhase(Phase.Succeeded); s.setDowntimeMillis(12L); s.setTotalTimeMillis(1530L);
                s.setIterations(3L); s.setTransferredBytes(220L << 20); });
        });

        Run run = kubevmm("migrate", "demo", "--to", "node-b", "--strategy", "PostCopy", "--bandwidth", "64", "--interval", "100ms", "--timeout", "20s");
        nodes.get(10, TimeUnit.SECONDS);

        assertThat(run.code()).as(run.err()).isZero();
        VMMigrationSpec spec = migrations().getFirst().getSpec();
        assertThat(spec.getVmName()).isEqualTo("demo");
        assertThat(spec.getTargetNode()).isEqualTo("node-b");
        assertThat(spec.getStrategy()).isEqualTo(VMMigrationSpec.Strategy.PostCopy);
        assertThat(spec.getBandwidthMiBps()).isEqualTo(64L);
        assertThat(run.out()).contains("Scheduling  node-a -> node-b")
                .contains("Running  node-a -> node-b  pass 2  sent 200.0 MiB  remaining 16.0 MiB  dirty 8.0 MiB/s  throttle 20%")
                .contains("vm/demo migrated node-a -> node-b: downtime 12 ms, total 1530 ms, 220.0 MiB sent in 3 passes");
    }

    @Test
    void aFailedMigrationExitsOneWithItsReason() {
        createVm("demo");
        inBackground(() -> {
            await().until(() -> !migrations().isEmpty());
            setMigrationStatus(migrations().getFirst().getMetadata().getName(), s -> { s.setPhase(Phase.Failed);
                s.setFailureReason("Aborted: still in pre-copy after 20 s, the completion timeout"); });
        });

        Run run = kubevmm("migrate", "demo", "--interval", "100ms", "--timeout", "20s");

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("failed: Aborted: still in pre-copy after 20 s, the completion timeout")
                .contains("kubevmm describe vmmig demo-");
    }

    @Test
    void cancelMarksTheRunningMigrationAndAnUnknownVmIsNamed() {
        createVm("demo");
        Run start = kubevmm("migrate", "demo", "--no-wait");
        assertThat(start.code()).isZero();
        String name = migrations().getFirst().getMetadata().getName();
        setMigrationStatus(name, s -> s.setPhase(Phase.Running));

        Run cancel = kubevmm("migrate", "demo", "--cancel", "--no-wait");

        assertThat(cancel.code()).as(cancel.err()).isZero();
        assertThat(client.resources(VMMigration.class).inNamespace("default").withName(name).get().getSpec().getCancel()).isTrue();
        Run unknown = kubevmm("migrate", "nope");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("virtualmachine \"nope\" not found");
    }

    @Test
    void evacuateSetsTheNodeFlagAndFollowsTheOperatorsProgress() throws Exception {
        VMNode node = new VMNode();
        node.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("node-a").build());
        client.resource(node).create();
        CompletableFuture<Void> operator = inBackground(() -> {
            await().until(() -> Boolean.TRUE.equals(client.resources(VMNode.class).withName("node-a").get().getSpec().getEvacuate()));
            evacuation("node-a", EvacuationStatus.Phase.InProgress, "3 VM(s) still on node-a", 0);
            sleep(300);
            evacuation("node-a", EvacuationStatus.Phase.Completed, "node node-a runs no VM", 3);
        });

        Run run = kubevmm("evacuate", "node-a", "--interval", "100ms", "--timeout", "20s");
        operator.get(10, TimeUnit.SECONDS);

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("vmnode/node-a: evacuating")
                .contains("InProgress: 3 VM(s) still on node-a (migrated 0")
                .contains("Completed: node node-a runs no VM (migrated 3");
    }

    void evacuation(String node, EvacuationStatus.Phase phase, String message, int migrated) {
        VMNode n = client.resources(VMNode.class).withName(node).get();
        EvacuationStatus e = new EvacuationStatus();
        e.setPhase(phase);
        e.setMessage(message);
        e.setMigrated(migrated);
        VMNodeStatus status = new VMNodeStatus();
        status.setEvacuation(e);
        n.setStatus(status);
        client.resources(VMNode.class).resource(n).updateStatus();
    }
}
