package io.kubevmm.operator.snapshot;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeSpec;
import io.kubevmm.api.v1alpha1.VMRestore;
import io.kubevmm.api.v1alpha1.VMRestoreSpec;
import io.kubevmm.api.v1alpha1.VMRestoreStatus;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VmState;
import io.kubevmm.operator.testing.MockApiServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The VMRestore reconciler against an API server (fabric8's CRUD mock); the test plays the VM
 * controller and the node (it creates the restored instance and reports it running).
 */
class RestoreReconcilerTest {
    private MockApiServer server;
    private KubernetesClient client;
    private SimpleMeterRegistry metrics;
    private RestoreReconciler reconciler;

    @BeforeEach
    void startApiServer() {
        server = MockApiServer.start();
        client = server.client();
        metrics = new SimpleMeterRegistry();
        reconciler = new RestoreReconciler(client, metrics, "test-operator", Duration.ofMinutes(10));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aRollbackReplacesTheInstanceAndSucceedsOnceTheRestoredOneRuns() {
        vm("web");
        instance("web", "node-b", null, InstancePhase.Running);
        node("node-b");
        readySnapshot("web-1", "web", "node-b");
        VMRestore restore = restore("back", "web-1", "web");

        reconciler.reconcile(get("back"), null);
        VMRestore started = get("back");
        assertThat(started.getStatus().getPhase()).isEqualTo(VMRestoreStatus.Phase.InProgress);
        assertThat(started.getStatus().getTargetNode()).isEqualTo("node-b");
        assertThat(client.resources(VirtualMachine.class).inNamespace("default").withName("web").get().getMetadata().getAnnotations())
                .containsEntry(Labels.RESTORE_FROM, "web-1").containsEntry(Labels.RESTORE_ID, restore.getMetadata().getUid());
        assertThat(client.resources(VirtualMachineInstance.class).inNamespace("default").withName("web").get())
                .as("the old instance goes so the VM controller starts the restored one").isNull();

        reconciler.reconcile(get("back"), null);
        assertThat(get("back").getStatus().getPhase()).as("no restored instance yet").isEqualTo(VMRestoreStatus.Phase.InProgress);

        instance("web", "node-b", restore.getMetadata().getUid(), InstancePhase.Running);
        reconciler.reconcile(get("back"), null);
        VMRestore done = get("back");
        assertThat(done.getStatus().getPhase()).isEqualTo(VMRestoreStatus.Phase.Succeeded);
        assertThat(done.getStatus().getDurationMillis()).isNotNull();
        assertThat(done.getStatus().getCompletionTime()).isNotBlank();
        assertThat(Conditions.isTrue(done.getStatus().getConditions(), "Complete")).isTrue();
        // Removed by a merge patch of nulls (the mock API server keeps the keys with null values).
        var annotations = client.resources(VirtualMachine.class).inNamespace("default").withName("web").get().getMetadata().getAnnotations();
        for (String key : new String[] {Labels.RESTORE_FROM, Labels.RESTORE_ID, Labels.RESTORE_NODE}) {
            assertThat(annotations == null ? null : annotations.get(key)).as(key).isNull();
        }
        assertThat(metrics.counter("kubevmm.restore.outcomes", "outcome", "Succeeded", "reason", "Succeeded").count()).isEqualTo(1);
    }

    @Test
    void aRestoreOfAMissingSnapshotFailsNamingTheField() {
        restore("lost", "nope", "web");

        reconciler.reconcile(get("lost"), null);

        assertThat(get("lost").getStatus().getPhase()).isEqualTo(VMRestoreStatus.Phase.Failed);
        assertThat(get("lost").getStatus().getError()).isEqualTo("SnapshotNotFound: spec.snapshotName: there is no VMSnapshot nope in namespace default");
    }

    @Test
    void aReconcileThatThrowsShowsInStatusUntilOneGetsThrough() {
        restore("shaky", "nope", "web");

        reconciler.updateErrorStatus(get("shaky"), null, new IllegalStateException("the API server did not answer"));
        var shown = Conditions.find(get("shaky").getStatus().getConditions(), "ReconcileError").orElseThrow();
        assertThat(shown.getStatus()).isEqualTo("True");
        assertThat(shown.getMessage()).isEqualTo("the API server did not answer");
        assertThat(client.v1().events().inNamespace("default").list().getItems())
                .anyMatch(e -> e.getReason().equals("ReconcileError") && e.getType().equals("Warning"));

        reconciler.reconcile(get("shaky"), null);
        var status = get("shaky").getStatus();
        assertThat(Conditions.find(status.getConditions(), "ReconcileError").orElseThrow().getStatus()).isEqualTo("False");
        assertThat(status.getPhase()).isEqualTo(VMRestoreStatus.Phase.Failed);
        assertThat(Conditions.find(status.getConditions(), "Complete")).isPresent();
    }

    private VMRestore restore(String name, String snapshot, String vm) {
        VMRestore restore = new VMRestore();
        restore.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        VMRestoreSpec spec = new VMRestoreSpec();
        spec.setSnapshotName(snapshot);
        spec.setTargetVmName(vm);
        restore.setSpec(spec);
        return client.resource(restore).create();
    }

    private VMRestore get(String name) {
        return client.resources(VMRestore.class).inNamespace("default").withName(name).get();
    }

    private void vm(String name) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setState(VmState.Running);
        spec.setMemory("256Mi");
        BootSpec boot = new BootSpec();
        boot.setKernel(new FileRef("vmlinuz"));
        spec.setBoot(boot);
        vm.setSpec(spec);
        client.resource(vm).create();
    }

    private void instance(String name, String node, String restoreId, InstancePhase phase) {
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        var meta = new ObjectMetaBuilder().withName(name).withNamespace("default");
        if (restoreId != null) {
            meta.withAnnotations(Map.of(Labels.RESTORE_ID, restoreId));
        }
        vmi.setMetadata(meta.build());
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setNodeName(node);
        vmi.setSpec(spec);
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        status.setPhase(phase);
        status.setNodeName(node);
        vmi.setStatus(status);
        client.resource(vmi).create();
        client.resource(vmi).updateStatus();
    }

    private void node(String name) {
        VMNode node = new VMNode();
        node.setMetadata(new ObjectMetaBuilder().withName(name).build());
        node.setSpec(new VMNodeSpec());
        client.resource(node).create();
    }

    private void readySnapshot(String name, String vm, String node) {
        VMSnapshot snapshot = new VMSnapshot();
        snapshot.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        VMSnapshotSpec spec = new VMSnapshotSpec();
        spec.setVmName(vm);
        snapshot.setSpec(spec);
        VMSnapshot created = client.resource(snapshot).create();
        VMSnapshotStatus status = new VMSnapshotStatus();
        status.setPhase(VMSnapshotStatus.Phase.Ready);
        status.setReadyToUse(true);
        status.setNodeName(node);
        created.setStatus(status);
        client.resource(created).updateStatus();
    }
}
