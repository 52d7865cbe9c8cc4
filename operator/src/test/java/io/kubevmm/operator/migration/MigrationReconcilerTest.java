package io.kubevmm.operator.migration;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.MigrationNodeFacts;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.operator.testing.MockApiServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator's VMMigration reconciler against an API server (fabric8's CRUD mock): the test
 * plays the two node runtimes, writing only their own status blocks as they do, and checks that
 * the operator moves the phase, keeps every condition, never touches the nodes' blocks, hands the
 * VMI over before it stores Succeeded, and gives each phase change an Event and a metric.
 */
class MigrationReconcilerTest {
    private MockApiServer server;
    private KubernetesClient client;
    private SimpleMeterRegistry metrics;
    private MigrationReconciler reconciler;

    @BeforeEach
    void startApiServer() {
        server = MockApiServer.start();
        client = server.client();
        metrics = new SimpleMeterRegistry();
        reconciler = new MigrationReconciler(client, null, metrics, "spread", "test-operator", 5, 2,
                Duration.ofSeconds(90), Duration.ofSeconds(150), Duration.ofSeconds(60));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void theFactsOfBothNodesDriveTheMigrationToSucceededAfterTheHandOver() {
        running("web", "node-a");
        VMMigration m = scheduled("web-1", "web");

        reconciler.reconcile(get("web-1"), null);
        assertThat(get("web-1").getStatus().getPhase()).as("no fact yet").isEqualTo(Phase.Scheduling);

        MigrationNodeFacts ready = facts("node-b", "QEMU 4242 waits for the guest's state");
        ready.setReadyTime("2026-12-03T10:00:00.600Z");
        target(m, ready);
        reconciler.reconcile(get("web-1"), null);
        assertThat(get("web-1").getStatus().getPhase()).isEqualTo(Phase.TargetReady);

        MigrationNodeFacts started = facts("node-a", "sending VM web to node-b");
        started.setStartTime("2026-12-03T10:00:00.900Z");
        started.setIterations(1L);
        started.setTransferredBytes(70254592L);
        started.setRemainingBytes(198180864L);
        source(m, started);
        reconciler.reconcile(get("web-1"), null);
        VMMigrationStatus running = get("web-1").getStatus();
        assertThat(running.getPhase()).isEqualTo(Phase.Running);
        assertThat(running.getMode()).isEqualTo("PreCopy");
        assertThat(running.getStartTime()).isEqualTo("2026-12-03T10:00:00.900Z");
        assertThat(running.getTransferredBytes()).isEqualTo(70254592L);

        MigrationNodeFacts arrived = new MigrationNodeFacts();
        arrived.setCompletedTime("2026-12-03T10:00:04.200Z");
        target(m, arrived);
        MigrationNodeFacts completed = new MigrationNodeFacts();
        completed.setCompletedTime("2026-12-03T10:00:04.300Z");
        completed.setDowntimeMillis(41L);
        completed.setTotalTimeMillis(3360L);
        completed.setTransferredBytes(206045184L);
        completed.setIterations(3L);
        source(m, completed);
        reconciler.reconcile(get("web-1"), null);
        VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace("default").withName("web").get();
        assertThat(vmi.getSpec().getNodeName()).isEqualTo("node-b");
        assertThat(vmi.getMetadata().getLabels()).containsEntry(Labels.NODE, "node-b");
        assertThat(get("web-1").getStatus().getPhase()).as("until the target writes the VMI's status").isEqualTo(Phase.Running);

        // The target's VMI reconciler takes the instance's status over.
        vmi.getStatus().setNodeName("node-b");
        client.resource(vmi).updateStatus();
        reconciler.reconcile(get("web-1"), null);

        VMMigration done = get("web-1");
        assertThat(done.getStatus().getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(done.getStatus().getDowntimeMillis()).isEqualTo(41L);
        assertThat(done.getStatus().getTotalTimeMillis()).isEqualTo(3360L);
        assertThat(done.getStatus().getRemainingBytes()).isZero();
        assertThat(done.getStatus().getConditions()).extracting(Condition::getType)
                .containsExactlyInAnyOrder("Scheduled", "TargetReady", "TargetRunning", "Completed");
        // The nodes' blocks are as the nodes wrote them.
        assertThat(done.getStatus().getSource().getNode()).isEqualTo("node-a");
        assertThat(done.getStatus().getSource().getDowntimeMillis()).isEqualTo(41L);
        assertThat(done.getStatus().getTarget().getReadyTime()).isEqualTo("2026-12-03T10:00:00.600Z");

        assertThat(reasons()).contains("TargetReady", "Running", "Succeeded");
        assertThat(metrics.counter("kubevmm.migration.phases", "phase", "Succeeded").count()).isEqualTo(1);
        assertThat(metrics.counter("kubevmm.migration.outcomes", "outcome", "Succeeded", "reason", "Succeeded").count()).isEqualTo(1);

        reconciler.reconcile(get("web-1"), null);
        assertThat(metrics.counter("kubevmm.migration.phases", "phase", "Succeeded").count()).as("an outcome is written once").isEqualTo(1);
    }

    @Test
    void aSourceThatGivesUpEndsTheMigrationAndTheVmiStays() {
        running("db", "node-a");
        VMMigration m = scheduled("db-1", "db");
        MigrationNodeFacts started = facts("node-a", "sending VM db to node-b");
        started.setStartTime("2026-12-03T10:00:00.900Z");
        source(m, started);
        reconciler.reconcile(get("db-1"), null);
        assertThat(get("db-1").getStatus().getPhase()).isEqualTo(Phase.Running);

        MigrationNodeFacts aborted = new MigrationNodeFacts();
        aborted.setFailedTime("2026-12-03T10:01:00Z");
        aborted.setFailureReason("Aborted");
        aborted.setMessage("still in pre-copy after the completion timeout of 60 s; the VM keeps running on node-a");
        source(m, aborted);
        reconciler.reconcile(get("db-1"), null);

        VMMigration failed = get("db-1");
        assertThat(failed.getStatus().getPhase()).isEqualTo(Phase.Failed);
        assertThat(failed.getStatus().getFailureReason()).startsWith("Aborted: still in pre-copy");
        assertThat(client.resources(VirtualMachineInstance.class).inNamespace("default").withName("db").get().getSpec().getNodeName())
                .isEqualTo("node-a");
        assertThat(reasons()).contains("Aborted");
    }

    @Test
    void aMigrationOfAnUnknownVmFailsNamingTheField() {
        VMMigration migration = new VMMigration();
        migration.setMetadata(new ObjectMetaBuilder().withName("ghost-1").withNamespace("default").build());
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName("ghost");
        migration.setSpec(spec);
        client.resource(migration).create();

        reconciler.reconcile(get("ghost-1"), null);

        assertThat(get("ghost-1").getStatus().getPhase()).isEqualTo(Phase.Failed);
        assertThat(get("ghost-1").getStatus().getFailureReason())
                .isEqualTo("VMNotFound: spec.vmName: there is no VirtualMachine ghost in namespace default");
    }

    @Test
    void aReconcileThatThrowsShowsInStatusAndTheConditionsOfThePhasesStay() {
        running("app", "node-a");
        scheduled("app-1", "app");

        reconciler.updateErrorStatus(get("app-1"), null, new IllegalStateException("the API server did not answer"));
        var status = get("app-1").getStatus();
        assertThat(io.kubevmm.api.status.Conditions.isTrue(status.getConditions(), "ReconcileError")).isTrue();
        assertThat(io.kubevmm.api.status.Conditions.isTrue(status.getConditions(), "Scheduled")).isTrue();
        assertThat(status.getPhase()).isEqualTo(Phase.Scheduling);

        reconciler.reconcile(get("app-1"), null);
        assertThat(io.kubevmm.api.status.Conditions.find(get("app-1").getStatus().getConditions(), "ReconcileError").orElseThrow()
                .getStatus()).isEqualTo("False");
    }

    private VMMigration scheduled(String name, String vm) {
        VMMigration migration = new VMMigration();
        migration.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default")
                .withLabels(Map.of(Labels.SOURCE_NODE, "node-a", Labels.TARGET_NODE, "node-b", Labels.VM, vm)).build());
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName(vm);
        migration.setSpec(spec);
        VMMigration created = client.resource(migration).create();
        var facts = new MigrationPhases.Facts(true, java.time.Instant.now(), Duration.ofSeconds(90), 1);
        var step = (MigrationPhases.Step.Write) MigrationPhases.scheduled(null, facts, "node-a", "node-b", 60, "admitted");
        StatusPatch.statusFields(client, created, step.status(), false);
        return get(name);
    }

    private static MigrationNodeFacts facts(String node, String message) {
        MigrationNodeFacts f = new MigrationNodeFacts();
        f.setNode(node);
        f.setMessage(message);
        return f;
    }

    /** What the source node runtime writes: a merge of its own block. */
    private void source(VMMigration migration, MigrationNodeFacts facts) {
        VMMigrationStatus status = new VMMigrationStatus();
        status.setSource(facts);
        StatusPatch.status(client, migration, status);
    }

    private void target(VMMigration migration, MigrationNodeFacts facts) {
        VMMigrationStatus status = new VMMigrationStatus();
        status.setTarget(facts);
        StatusPatch.status(client, migration, status);
    }

    private void running(String vm, String node) {
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setMetadata(new ObjectMetaBuilder().withName(vm).withNamespace("default").withLabels(Map.of(Labels.NODE, node)).build());
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setNodeName(node);
        vmi.setSpec(spec);
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        status.setPhase(InstancePhase.Running);
        status.setNodeName(node);
        vmi.setStatus(status);
        client.resource(vmi).create();
        client.resource(vmi).updateStatus();
    }

    private VMMigration get(String name) {
        return client.resources(VMMigration.class).inNamespace("default").withName(name).get();
    }

    private java.util.List<String> reasons() {
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .map(io.fabric8.kubernetes.api.model.Event::getReason).toList();
    }
}
