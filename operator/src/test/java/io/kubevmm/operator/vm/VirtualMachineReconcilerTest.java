package io.kubevmm.operator.vm;

import io.kubevmm.operator.testing.PlayedNodes;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.api.v1alpha1.VmState;
import io.kubevmm.operator.testing.RegisterCrds;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operator against an API server with two registered nodes (VMNode + fresh Lease each) and
 * no node runtimes: the test plays the node and writes VMI status itself.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = RegisterCrds.class)
class VirtualMachineReconcilerTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    KubernetesClient client;

    @BeforeEach
    void twoNodes() {
        node("node-a", "4Gi");
        node("node-b", "4Gi");
    }

    void node(String name, String memory) {
        PlayedNodes.register(client, name, 4, memory);
    }

    static VirtualMachine vm(String name, String memory, VmState state) {
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setState(state);
        spec.setMemory(memory);
        BootSpec boot = new BootSpec();
        boot.setKernel(new FileRef("vmlinuz"));
        spec.setBoot(boot);
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        vm.setSpec(spec);
        return vm;
    }

    VirtualMachine getVm(String name) {
        return client.resources(VirtualMachine.class).inNamespace("default").withName(name).get();
    }

    VirtualMachineInstance getVmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    VirtualMachine awaitVm(String name, Predicate<VirtualMachine> until) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
            VirtualMachine vm = getVm(name);
            return vm != null && vm.getStatus() != null && until.test(vm);
        });
        return getVm(name);
    }

    static Condition condition(VirtualMachine vm, String type) {
        return Conditions.find(vm.getStatus().getConditions(), type).orElseThrow();
    }

    /** Plays the node runtime: reports the instance running and ready. */
    void reportRunning(String name) {
        PlayedNodes.reportReady(client, getVmi(name), "guest reported ready 2400 ms after start");
    }

    /** As a user's `kubectl patch --type merge` would: no resourceVersion, so the operator's own writes cannot make it conflict. */
    void setState(String name, VmState state) {
        client.resources(VirtualMachine.class).inNamespace("default").withName(name).patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                "{\"spec\":{\"state\":\"" + state + "\"}}");
    }

    List<Event> events(String name) {
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
    }

    @Test
    void aValidVmIsScheduledGetsAnInstanceOnItsNodeAndRollsUpItsStatus() {
        client.resource(vm("web", "512Mi", VmState.Running)).create();

        await().atMost(WAIT).until(() -> getVmi("web") != null);
        VirtualMachineInstance vmi = getVmi("web");
        assertThat(vmi.getSpec().getNodeName()).isIn("node-a", "node-b");
        assertThat(vmi.getMetadata().getLabels()).containsEntry(Labels.NODE, vmi.getSpec().getNodeName());
        assertThat(vmi.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(o -> assertThat(o.getKind()).isEqualTo("VirtualMachine"));
        assertThat(vmi.getSpec().getState()).isEqualTo(InstanceState.Running);
        assertThat(vmi.getSpec().getMemory()).isEqualTo("512Mi");

        reportRunning("web");
        VirtualMachine vm = awaitVm("web", v -> v.getStatus().getPhase() == VmPhase.Running);
        assertThat(vm.getStatus().getNodeName()).isEqualTo(vmi.getSpec().getNodeName());
        assertThat(condition(vm, "Ready").getStatus()).isEqualTo("True");
        assertThat(condition(vm, "Scheduled").getStatus()).isEqualTo("True");
        assertThat(vm.getStatus().getObservedGeneration()).isEqualTo(vm.getMetadata().getGeneration());
        assertThat(events("web")).extracting(Event::getReason).contains("Scheduled", "Running");

        setState("web", VmState.Suspended);
        await().atMost(WAIT).until(() -> getVmi("web").getSpec().getState() == InstanceState.Suspended);

        client.resources(VirtualMachine.class).inNamespace("default").withName("web").delete();
        await().atMost(WAIT).until(() -> getVm("web") == null && getVmi("web") == null);
    }

    @Test
    void anInvalidVmGetsValidFalseNamingTheFieldAndNothingIsCreated() {
        client.resource(vm("broken", "12Zi", VmState.Running)).create();

        VirtualMachine vm = awaitVm("broken", v -> v.getStatus().getPhase() == VmPhase.Failed);
        assertThat(condition(vm, "Valid").getStatus()).isEqualTo("False");
        assertThat(condition(vm, "Valid").getMessage()).isEqualTo("spec.memory \"12Zi\" is not a quantity (example: 512Mi)");
        assertThat(getVmi("broken")).isNull();
        assertThat(events("broken")).anySatisfy(e -> {
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getReason()).isEqualTo("InvalidSpec");
        });
        client.resources(VirtualMachine.class).inNamespace("default").withName("broken").delete();
    }

    @Test
    void aVmTooBigForEveryNodeIsUnschedulableWithTheReasonPerNode() {
        client.resource(vm("huge", "16Gi", VmState.Running)).create();

        VirtualMachine vm = awaitVm("huge", v -> v.getStatus().getPhase() == VmPhase.Pending);
        assertThat(condition(vm, "Scheduled").getReason()).isEqualTo("Unschedulable");
        assertThat(condition(vm, "Scheduled").getMessage()).isEqualTo("0/2 nodes are available: 2 insufficient memory.");
        assertThat(getVmi("huge")).isNull();
        client.resources(VirtualMachine.class).inNamespace("default").withName("huge").delete();
    }

    @Test
    void twoVmsAreSpreadOverTwoNodesAndDefinedReleasesTheInstance() {
        client.resource(vm("one", "1Gi", VmState.Running)).create();
        await().atMost(WAIT).until(() -> getVmi("one") != null);
        client.resource(vm("two", "1Gi", VmState.Running)).create();
        await().atMost(WAIT).until(() -> getVmi("two") != null);

        assertThat(getVmi("one").getSpec().getNodeName()).isNotEqualTo(getVmi("two").getSpec().getNodeName());

        setState("two", VmState.Defined);
        await().atMost(WAIT).until(() -> getVmi("two") == null);
        VirtualMachine two = awaitVm("two", v -> v.getStatus().getPhase() == VmPhase.Defined);
        assertThat(two.getStatus().getNodeName()).isNull();

        client.resources(VirtualMachine.class).inNamespace("default").withName("one").delete();
        client.resources(VirtualMachine.class).inNamespace("default").withName("two").delete();
        await().atMost(WAIT).until(() -> getVm("one") == null && getVm("two") == null);
    }

    @Test
    void aStoppedVmKeepsItsDiskNodeStartsOnlyThereAndItsDeletionTellsTheNodeToDropTheDisks() {
        VirtualMachine db = vm("db", "512Mi", VmState.Running);
        io.kubevmm.api.v1alpha1.DiskSpec disk = new io.kubevmm.api.v1alpha1.DiskSpec();
        disk.setName("data");
        disk.setSize("64Mi");
        db.getSpec().setDisks(List.of(disk));
        client.resource(db).create();
        await().atMost(WAIT).until(() -> getVmi("db") != null);
        String holder = getVmi("db").getSpec().getNodeName();
        String other = holder.equals("node-a") ? "node-b" : "node-a";
        reportRunning("db");
        assertThat(awaitVm("db", v -> v.getStatus().getPhase() == VmPhase.Running).getStatus().getDiskNode()).isEqualTo(holder);

        setState("db", VmState.Defined);
        await().atMost(WAIT).until(() -> getVmi("db") == null);
        VirtualMachine defined = awaitVm("db", v -> v.getStatus().getPhase() == VmPhase.Defined);
        assertThat(defined.getStatus().getNodeName()).isNull();
        assertThat(defined.getStatus().getDiskNode()).as("the node that keeps its disks").isEqualTo(holder);

        // The holder has less room than the other node: spread alone would pick the other one.
        VirtualMachine filler = vm("filler", "2Gi", VmState.Running);
        filler.getSpec().setNodeSelector(Map.of(Labels.NODE, holder));
        client.resource(filler).create();
        await().atMost(WAIT).until(() -> getVmi("filler") != null);
        setCordoned(holder, true);
        setState("db", VmState.Running);
        VirtualMachine waiting = awaitVm("db", v -> v.getStatus().getPhase() == VmPhase.Pending);
        assertThat(condition(waiting, "Scheduled").getMessage()).startsWith("its disks are on node " + holder + ", which is cordoned");
        assertThat(getVmi("db")).as("never started on " + other + " with empty disks").isNull();

        setCordoned(holder, false);
        await().atMost(WAIT).until(() -> getVmi("db") != null);
        assertThat(getVmi("db").getSpec().getNodeName()).isEqualTo(holder);

        // Play the node runtime's finalizer so the deletion can be watched.
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("db").edit(v -> {
            v.getMetadata().setFinalizers(List.of("kubevmm.io/node-runtime-test"));
            return v;
        });
        client.resources(VirtualMachine.class).inNamespace("default").withName("db").delete();
        await().atMost(WAIT).until(() -> getVmi("db") != null && getVmi("db").getMetadata().getDeletionTimestamp() != null);
        assertThat(getVmi("db").getMetadata().getAnnotations()).containsEntry(Labels.DELETE_DISKS, "true");
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("db").edit(v -> {
            v.getMetadata().setFinalizers(List.of());
            return v;
        });
        await().atMost(WAIT).until(() -> getVm("db") == null && getVmi("db") == null);
        client.resources(VirtualMachine.class).inNamespace("default").withName("filler").delete();
        await().atMost(WAIT).until(() -> getVm("filler") == null);
    }

    void setCordoned(String node, boolean cordoned) {
        client.resources(VMNode.class).withName(node).edit(n -> { n.getSpec().setUnschedulable(cordoned); return n; });
    }
}
