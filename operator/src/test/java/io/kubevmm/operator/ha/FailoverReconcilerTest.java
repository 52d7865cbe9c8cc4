package io.kubevmm.operator.ha;

import io.kubevmm.operator.testing.PlayedNodes;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.NodeResources;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeSpec;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VmState;
import io.kubevmm.operator.testing.RegisterCrds;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operator's side of a node loss against an API server with two registered nodes and no node
 * runtimes (the test plays them): once node ha-a's Lease expired, the VMNode says LeaseExpired, the
 * Lease gets the fence mark, the Restart VM's instance moves to ha-b with a fresh status, and the
 * mode None VM and the Restart VM with local disks stay on ha-a saying why.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = RegisterCrds.class)
class FailoverReconcilerTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final List<String> VMS = List.of("ha-move", "ha-stay", "ha-disk");

    @Inject
    KubernetesClient client;

    @AfterEach
    void cleanUp() {
        VMS.forEach(name -> client.resources(VirtualMachine.class).inNamespace("default").withName(name).delete());
        await().atMost(WAIT).until(() -> VMS.stream().allMatch(n -> vm(n) == null && vmi(n) == null));
        for (String node : List.of("ha-a", "ha-b")) {
            client.resources(VMNode.class).withName(node).delete();
            client.leases().inNamespace("kubevmm-system").withName("kubevmm-node-" + node).delete();
        }
    }

    @Test
    void aLostNodesRestartVmMovesOnceFencedTheOthersStayDownAndSayWhy() {
        node("ha-a", "8Gi", ZonedDateTime.now());
        node("ha-b", "2Gi", ZonedDateTime.now()); // spread: every VM lands on ha-a first
        create("ha-move", HighAvailabilitySpec.Mode.Restart, false);
        create("ha-stay", null, false);
        create("ha-disk", HighAvailabilitySpec.Mode.Restart, true);
        for (String name : VMS) {
            await().atMost(WAIT).until(() -> vmi(name) != null);
            assertThat(vmi(name).getSpec().getNodeName()).isEqualTo("ha-a");
            reportRunning(name);
        }
        assertThat(vmi("ha-move").getMetadata().getAnnotations()).containsEntry(HighAvailabilitySpec.FENCE_ANNOTATION, "Restart");
        assertThat(vmi("ha-stay").getMetadata().getAnnotations()).as("mode None is never fenced")
                .doesNotContainKey(HighAvailabilitySpec.FENCE_ANNOTATION);

        // ha-a stops renewing: its last renewal 20 s ago, with a 15 s lease. Its last heartbeat wakes the operator.
        lease("ha-a", ZonedDateTime.now().minusSeconds(20), 15);
        heartbeat("ha-a");

        await().atMost(WAIT).untilAsserted(() -> {
            var ready = Conditions.find(client.resources(VMNode.class).withName("ha-a").get().getStatus().getConditions(), "Ready");
            assertThat(ready).hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("LeaseExpired"));
        });
        await().atMost(WAIT).until(() -> "ha-b".equals(vmi("ha-move").getSpec().getNodeName()));
        assertThat(client.leases().inNamespace("kubevmm-system").withName("kubevmm-node-ha-a").get().getMetadata().getAnnotations())
                .containsKey(NodeHealth.FENCED_ANNOTATION);
        VirtualMachineInstance moved = vmi("ha-move");
        assertThat(moved.getMetadata().getLabels()).containsEntry(Labels.NODE, "ha-b");
        assertThat(moved.getStatus().getPhase()).as("what ha-a reported is gone").isEqualTo(InstancePhase.Pending);
        assertThat(events("ha-move")).anyMatch(e -> e.getReason().equals("FailedOver") && e.getMessage().contains("restarting on node ha-b"));

        await().atMost(WAIT).untilAsserted(() -> {
            var ready = Conditions.find(vm("ha-stay").getStatus().getConditions(), "Ready").orElseThrow();
            assertThat(ready.getReason()).isEqualTo("NodeLost");
            assertThat(ready.getMessage()).contains("node ha-a is lost").contains("stays down: highAvailability.mode is None");
            var disk = Conditions.find(vm("ha-disk").getStatus().getConditions(), "Ready").orElseThrow();
            assertThat(disk.getReason()).isEqualTo("NodeLost");
            assertThat(disk.getMessage()).contains("its disks exist only on node ha-a").contains("restartWithLocalDiskLoss: true");
        });
        assertThat(vmi("ha-stay").getSpec().getNodeName()).isEqualTo("ha-a");
        assertThat(vmi("ha-disk").getSpec().getNodeName()).isEqualTo("ha-a");
        assertThat(events("ha-stay")).anyMatch(e -> e.getReason().equals("NodeLost"));

        // ha-a renews again: nothing left to move, so the fence mark goes and the others' condition clears.
        var fenced = client.leases().inNamespace("kubevmm-system").withName("kubevmm-node-ha-a").get();
        fenced.getSpec().setRenewTime(ZonedDateTime.now());
        client.leases().inNamespace("kubevmm-system").resource(fenced).update();
        heartbeat("ha-a");
        await().atMost(WAIT).until(() -> {
            var annotations = client.leases().inNamespace("kubevmm-system").withName("kubevmm-node-ha-a").get().getMetadata().getAnnotations();
            return annotations == null || !annotations.containsKey(NodeHealth.FENCED_ANNOTATION);
        });
        for (String name : List.of("ha-stay", "ha-disk")) {
            await().atMost(WAIT).until(() -> "True".equals(Conditions.find(vm(name).getStatus().getConditions(), "Ready")
                    .map(c -> c.getStatus()).orElse(null)));
        }
    }

    void create(String name, HighAvailabilitySpec.Mode mode, boolean disk) {
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setState(VmState.Running);
        spec.setMemory("512Mi");
        BootSpec boot = new BootSpec();
        boot.setKernel(new FileRef("vmlinuz"));
        spec.setBoot(boot);
        if (mode != null) {
            HighAvailabilitySpec ha = new HighAvailabilitySpec();
            ha.setMode(mode);
            spec.setHighAvailability(ha);
        }
        if (disk) {
            DiskSpec d = new DiskSpec();
            d.setName("data");
            d.setSize("1Gi");
            spec.setDisks(List.of(d));
        }
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        vm.setSpec(spec);
        client.resource(vm).create();
    }

    /** As a node runtime registers: its Lease first, then its VMNode. */
    void node(String name, String memory, ZonedDateTime renewed) {
        lease(name, renewed, 3600);
        VMNode node = new VMNode();
        node.setMetadata(new ObjectMetaBuilder().withName(name).withLabels(Map.of(Labels.NODE, name)).build());
        node.setSpec(new VMNodeSpec());
        client.resource(node).createOr(n -> n.update());
        VMNodeStatus status = new VMNodeStatus();
        NodeResources capacity = new NodeResources();
        capacity.setCpu(4);
        capacity.setMemory(memory);
        status.setCapacity(capacity);
        status.setHeartbeatTime(ZonedDateTime.now().toString());
        node.setStatus(status);
        client.resource(node).updateStatus();
    }

    void lease(String name, ZonedDateTime renewed, int seconds) {
        PlayedNodes.lease(client, name, renewed, seconds);
    }

    /** What a node runtime's heartbeat does to its VMNode: a status write, Ready=True while it runs. */
    void heartbeat(String name) {
        VMNode node = client.resources(VMNode.class).withName(name).get();
        node.getStatus().setHeartbeatTime(ZonedDateTime.now().toString());
        node.getStatus().setConditions(List.of(new ConditionBuilder().withType("Ready").withStatus("True")
                .withReason("NodeRuntimeRunning").withMessage("node runtime is running and renewing its lease")
                .withLastTransitionTime("2026-01-01T00:00:00Z").build()));
        client.resource(node).updateStatus();
    }

    void reportRunning(String name) {
        PlayedNodes.reportReady(client, vmi(name), "guest ready");
    }

    VirtualMachine vm(String name) {
        return client.resources(VirtualMachine.class).inNamespace("default").withName(name).get();
    }

    VirtualMachineInstance vmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    List<Event> events(String name) {
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
    }
}
