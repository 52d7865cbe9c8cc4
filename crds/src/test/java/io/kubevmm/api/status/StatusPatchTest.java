package io.kubevmm.api.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kubevmm.api.v1alpha1.Crds;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Status writes are merge patches valid against whatever the API server holds, retried when the failure may pass. */
class StatusPatchTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private KubernetesMockServer server;
    private KubernetesClient client;

    @BeforeEach
    void startApiServer() {
        java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher() {
            @Override
            public io.fabric8.mockwebserver.http.MockResponse dispatch(io.fabric8.mockwebserver.http.RecordedRequest request) {
                try {
                    return super.dispatch(request);
                } catch (RuntimeException e) { // as a real API server answers a patch that does not apply (the mock throws)
                    return new io.fabric8.mockwebserver.http.MockResponse().setResponseCode(422).setBody(String.valueOf(e.getMessage()));
                }
            }
        }, false);
        server.init();
        client = server.createClient();
        Crds.all().forEach(crd -> client.resource(crd).create());
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    @Test
    void aStatusWrittenFromAStaleCopyLandsWhetherOrNotTheStoredObjectHasEachField() {
        VirtualMachineInstance stored = vmi("evac-1");
        stored.setStatus(status(InstancePhase.Migrating, null, 4711L));
        client.resource(stored).create();
        client.resource(stored).updateStatus(); // stored: no createdTime, a qemuPid

        // The writer's copy (its informer cache) may be older: whatever the stored object holds, the write lands.
        VirtualMachineInstanceStatus wanted = status(InstancePhase.Running, "2026-12-03T11:00:00Z", 10300L);
        StatusPatch.replaceStatus(client, stored, wanted);
        assertThat((Object) JSON.valueToTree(read("evac-1").getStatus())).isEqualTo(JSON.valueToTree(wanted));

        // Fields the new status no longer has go, present in the stored object or not.
        VirtualMachineInstanceStatus stopped = status(InstancePhase.Stopped, null, null);
        StatusPatch.replaceStatus(client, stored, stopped);
        VirtualMachineInstanceStatus now = read("evac-1").getStatus();
        assertThat(now.getPhase()).isEqualTo(InstancePhase.Stopped);
        assertThat(now.getCreatedTime()).isNull();
        assertThat(now.getQemuPid()).isNull();
    }

    @Test
    void aWriterWhoseGuestMovedAwayCannotOverwriteTheNewWritersStatus() {
        VirtualMachineInstance stored = vmi("moved");
        stored.getSpec().setNodeName("node-a");
        client.resource(stored).create();
        VirtualMachineInstanceStatus migrating = status(InstancePhase.Migrating, null, 4711L);
        assertThat(StatusPatch.replaceStatusWhile(client, stored, migrating, "/spec/nodeName", "node-a")).isTrue();
        assertThat(read("moved").getStatus().getPhase()).isEqualTo(InstancePhase.Migrating);

        // The handover: the instance is placed on node-b, whose node runtime writes its status now.
        VirtualMachineInstance handedOver = read("moved");
        handedOver.getSpec().setNodeName("node-b");
        client.resource(handedOver).update();
        VirtualMachineInstanceStatus running = status(InstancePhase.Running, null, 10300L);
        assertThat(StatusPatch.replaceStatusWhile(client, handedOver, running, "/spec/nodeName", "node-b")).isTrue();

        // node-a's reconcile that began before the handover writes late, from its stale copy: refused, nothing changes.
        assertThat(StatusPatch.replaceStatusWhile(client, stored, migrating, "/spec/nodeName", "node-a")).isFalse();
        assertThat(read("moved").getStatus().getPhase()).isEqualTo(InstancePhase.Running);
        assertThat(read("moved").getStatus().getQemuPid()).isEqualTo(10300L);
    }

    @Test
    void theOwnerOfSomeFieldsReplacesThemAndLeavesTheBlocksOthersWrite() {
        io.kubevmm.api.v1alpha1.VMMigration migration = new io.kubevmm.api.v1alpha1.VMMigration();
        migration.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("m").withNamespace("default").build());
        var spec = new io.kubevmm.api.v1alpha1.VMMigrationSpec();
        spec.setVmName("web");
        migration.setSpec(spec);
        var created = client.resource(migration).create();
        var scheduling = new io.kubevmm.api.v1alpha1.VMMigrationStatus();
        scheduling.setPhase(io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase.Scheduling);
        scheduling.setConditions(new Conditions(null, 1).set("Scheduled", true, "Scheduled", "a -> b").build());
        StatusPatch.statusFields(client, created, scheduling, false);

        // The target node merges its own block.
        var ready = new io.kubevmm.api.v1alpha1.MigrationNodeFacts();
        ready.setReadyTime("2026-12-03T10:00:00Z");
        var block = new io.kubevmm.api.v1alpha1.VMMigrationStatus();
        block.setTarget(ready);
        StatusPatch.status(client, created, block);

        // The operator replaces its fields, the condition list whole, and leaves status.target alone.
        var stored = client.resources(io.kubevmm.api.v1alpha1.VMMigration.class).inNamespace("default").withName("m").get();
        var next = new io.kubevmm.api.v1alpha1.VMMigrationStatus();
        next.setPhase(io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase.TargetReady);
        next.setConditions(new Conditions(stored.getStatus().getConditions(), 1).set("TargetReady", true, "Listening", "ready")
                .buildKeepingOthers());
        StatusPatch.statusFields(client, stored, next, true);

        var now = client.resources(io.kubevmm.api.v1alpha1.VMMigration.class).inNamespace("default").withName("m").get().getStatus();
        assertThat(now.getPhase()).isEqualTo(io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase.TargetReady);
        assertThat(now.getTarget().getReadyTime()).isEqualTo("2026-12-03T10:00:00Z");
        assertThat(now.getConditions()).extracting(io.fabric8.kubernetes.api.model.Condition::getType)
                .containsExactly("TargetReady", "Scheduled");
    }

    @Test
    void conditionsAreReplacedAsAWholeNotAppended() {
        VirtualMachineInstance stored = vmi("web");
        VirtualMachineInstanceStatus first = status(InstancePhase.Starting, null, null);
        first.setConditions(new Conditions(null, 1).set("Ready", false, "Booting", "booting").set("Paused", false, "NotPaused", "no").build());
        stored.setStatus(first);
        client.resource(stored).create();
        client.resource(stored).updateStatus();
        VirtualMachineInstanceStatus second = status(InstancePhase.Running, null, 1L);
        second.setConditions(new Conditions(first.getConditions(), 1).set("Ready", true, "GuestReady", "ready").build());
        StatusPatch.replaceStatus(client, stored, second);
        assertThat((Object) JSON.valueToTree(read("web").getStatus())).isEqualTo(JSON.valueToTree(second));
    }

    @Test
    void aWriteThatFailsForAReasonThatMayPassIsRetriedWithBackoff() {
        AtomicInteger calls = new AtomicInteger();
        String result = ApiRetry.write("status of test", () -> {
            if (calls.incrementAndGet() < 3) {
                throw new KubernetesClientException("the API server did not answer within 10 s", 0, null);
            }
            return "written";
        }, java.time.Duration.ofMillis(1));
        assertThat(result).isEqualTo("written");
        assertThat(calls).hasValue(3);
        assertThat(ApiRetry.delay(java.time.Duration.ofMillis(200), 1).toMillis()).isEqualTo(200);
        assertThat(ApiRetry.delay(java.time.Duration.ofMillis(200), 2).toMillis()).isEqualTo(400);
        assertThat(ApiRetry.delay(java.time.Duration.ofMillis(200), 20).toSeconds()).isEqualTo(5);
    }

    @Test
    void aWriteTheServerRefusesIsReportedAtOnceAndOneThatKeepsFailingAtTheEnd() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> ApiRetry.write("status of test", () -> {
            calls.incrementAndGet();
            throw new KubernetesClientException("Missing field createdTime at /status", 422, null);
        })).isInstanceOf(KubernetesClientException.class).hasMessageContaining("createdTime");
        assertThat(calls).as("a refused write is not retried").hasValue(1);

        calls.set(0);
        assertThatThrownBy(() -> ApiRetry.write("status of test", () -> {
            calls.incrementAndGet();
            throw new KubernetesClientException("conflict", 409, null);
        }, java.time.Duration.ofMillis(1))).isInstanceOf(KubernetesClientException.class);
        assertThat(calls).hasValue(ApiRetry.ATTEMPTS);
    }

    private VirtualMachineInstance read(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    private static VirtualMachineInstance vmi(String name) {
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setNodeName("node-b");
        vmi.setSpec(spec);
        return vmi;
    }

    private static VirtualMachineInstanceStatus status(InstancePhase phase, String createdTime, Long pid) {
        VirtualMachineInstanceStatus s = new VirtualMachineInstanceStatus();
        s.setPhase(phase);
        s.setCreatedTime(createdTime);
        s.setQemuPid(pid);
        s.setNodeName("node-b");
        return s;
    }
}
