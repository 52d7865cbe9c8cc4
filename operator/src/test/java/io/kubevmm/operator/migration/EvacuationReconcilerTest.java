package io.kubevmm.operator.migration;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.EvacuationStatus;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.operator.testing.MockApiServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Evacuating a node: one migration per VM, retries counted per evacuation, progress in status,
 * and the same evacuation recognised by a reconcile that reads the node from a stale cache. The
 * test plays the node runtimes (it moves the instances and ends the migrations).
 */
class EvacuationReconcilerTest {
    private MockApiServer server;
    private KubernetesClient client;
    private EvacuationReconciler reconciler;

    @BeforeEach
    void startApiServer() {
        server = MockApiServer.start();
        client = server.client();
        reconciler = new EvacuationReconciler(client, new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), "test-operator");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void eachVmGetsOneMigrationAndAStaleReadOfTheNodeIsTheSameEvacuation() {
        VMNode stale = evacuate("node-a", true);
        running("web", "node-a");
        running("db", "node-a");

        reconciler.reconcile(stale, null);
        assertThat(migrations()).extracting(m -> m.getSpec().getVmName()).containsExactlyInAnyOrder("web", "db");
        EvacuationStatus first = node("node-a").getStatus().getEvacuation();
        assertThat(first.getPhase()).isEqualTo(EvacuationStatus.Phase.InProgress);
        assertThat(first.getRemaining()).isEqualTo(2);
        String id = first.getId();
        assertThat(id).isNotBlank();
        assertThat(migrations()).allSatisfy(m -> assertThat(m.getMetadata().getLabels()).containsEntry(EvacuationReconciler.EVACUATION_ID, id));

        // web arrives elsewhere; the next reconcile still reads the node as it was before the first status write.
        succeed(migration("web"));
        moveTo("web", "node-b");
        reconciler.reconcile(stale, null);
        EvacuationStatus second = node("node-a").getStatus().getEvacuation();
        assertThat(second.getId()).isEqualTo(id);
        assertThat(second.getMigrated()).isEqualTo(1);
        assertThat(second.getRemaining()).isEqualTo(1);
        assertThat(migrations()).as("db's migration is on its way: no second one").hasSize(2);

        succeed(migration("db"));
        moveTo("db", "node-b");
        reconciler.reconcile(node("node-a"), null);
        EvacuationStatus done = node("node-a").getStatus().getEvacuation();
        assertThat(done.getPhase()).isEqualTo(EvacuationStatus.Phase.Completed);
        assertThat(done.getMigrated()).isEqualTo(2);
        assertThat(done.getRemaining()).isZero();
    }

    @Test
    void aFailedMigrationIsRetriedAndThreeFailuresBlockTheEvacuationNamingTheVm() {
        evacuate("node-a", true);
        running("web", "node-a");
        for (int attempt = 1; attempt <= 3; attempt++) {
            reconciler.reconcile(node("node-a"), null);
            assertThat(migrations()).hasSize(attempt);
            fail(migrations().stream().filter(m -> m.getStatus() == null).findFirst().orElseThrow());
        }
        reconciler.reconcile(node("node-a"), null);
        EvacuationStatus status = node("node-a").getStatus().getEvacuation();
        assertThat(migrations()).as("no fourth attempt").hasSize(3);
        assertThat(status.getPhase()).isEqualTo(EvacuationStatus.Phase.Blocked);
        assertThat(status.getFailed()).isEqualTo(3);
        assertThat(status.getMessage()).contains("default/web").contains("3 migrations failed");
    }

    @Test
    void aLaterEvacuationOfTheSameNodeCountsOnlyItsOwnMigrations() {
        evacuate("node-a", true);
        running("web", "node-a");
        reconciler.reconcile(node("node-a"), null);
        succeed(migration("web"));
        moveTo("web", "node-b");
        reconciler.reconcile(node("node-a"), null);
        String firstId = node("node-a").getStatus().getEvacuation().getId();

        evacuate("node-a", false);
        reconciler.reconcile(node("node-a"), null);
        assertThat(node("node-a").getStatus() == null ? null : node("node-a").getStatus().getEvacuation()).isNull();

        moveTo("web", "node-a"); // it came back
        evacuate("node-a", true);
        reconciler.reconcile(node("node-a"), null);
        EvacuationStatus again = node("node-a").getStatus().getEvacuation();
        assertThat(again.getId()).isNotEqualTo(firstId);
        assertThat(again.getMigrated()).as("the first evacuation's success is not this one's").isZero();
        assertThat(again.getRemaining()).isEqualTo(1);
        assertThat(migrations()).filteredOn(m -> again.getId().equals(m.getMetadata().getLabels().get(EvacuationReconciler.EVACUATION_ID)))
                .hasSize(1);
    }

    private VMNode evacuate(String name, boolean evacuate) {
        VMNode existing = client.resources(VMNode.class).withName(name).get();
        if (existing == null) {
            VMNode node = new VMNode();
            node.setMetadata(new ObjectMetaBuilder().withName(name).build());
            VMNodeSpec spec = new VMNodeSpec();
            spec.setEvacuate(evacuate);
            node.setSpec(spec);
            return client.resource(node).create();
        }
        existing.getSpec().setEvacuate(evacuate);
        return client.resource(existing).update();
    }

    private void running(String vm, String node) {
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setMetadata(new ObjectMetaBuilder().withName(vm).withNamespace("default").withLabels(Map.of(Labels.NODE, node)).build());
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setNodeName(node);
        vmi.setSpec(spec);
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        status.setPhase(InstancePhase.Running);
        vmi.setStatus(status);
        client.resource(vmi).create();
        client.resource(vmi).updateStatus();
    }

    private void moveTo(String vm, String node) {
        VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace("default").withName(vm).get();
        vmi.getMetadata().getLabels().put(Labels.NODE, node);
        vmi.getSpec().setNodeName(node);
        client.resource(vmi).update();
    }

    private VMNode node(String name) {
        return client.resources(VMNode.class).withName(name).get();
    }

    private List<VMMigration> migrations() {
        return client.resources(VMMigration.class).inNamespace("default").list().getItems();
    }

    private VMMigration migration(String vm) {
        return migrations().stream().filter(m -> vm.equals(m.getSpec().getVmName()) && m.getStatus() == null).findFirst().orElseThrow();
    }

    private void succeed(VMMigration migration) {
        end(migration, VMMigrationStatus.Phase.Succeeded);
    }

    private void fail(VMMigration migration) {
        end(migration, VMMigrationStatus.Phase.Failed);
    }

    private void end(VMMigration migration, VMMigrationStatus.Phase phase) {
        VMMigrationStatus status = new VMMigrationStatus();
        status.setPhase(phase);
        migration.setStatus(status);
        client.resource(migration).updateStatus();
    }
}
