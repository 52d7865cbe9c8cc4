package io.kubevmm.operator.vm;

import io.kubevmm.operator.testing.PlayedNodes;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.NetworkSpec;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.api.v1alpha1.VMNetwork;
import io.kubevmm.api.v1alpha1.VMNetworkSpec;
import io.kubevmm.api.v1alpha1.VMNetworkStatus.Allocation;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.api.v1alpha1.VmState;
import io.kubevmm.operator.network.NetworkAllocator;
import io.kubevmm.operator.network.NetworkStatusWriter;
import io.kubevmm.operator.service.VmEndpointSlices;
import io.kubevmm.operator.testing.RegisterCrds;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Overlay addresses and Service endpoints through the operator, against the in-JVM API server
 * (which enforces resourceVersion on updates like the real one).
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = RegisterCrds.class)
class OverlayNetworkingTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String NS = "default";

    @Inject
    KubernetesClient client;

    @BeforeEach
    void nodesAndNetwork() {
        node("node-a");
        node("node-b");
        network("default", "10.200.0.0/29", 4200);
    }

    @AfterEach
    void cleanUp() {
        client.resources(VirtualMachine.class).inNamespace(NS).delete();
        await().atMost(WAIT).until(() -> client.resources(VirtualMachine.class).inNamespace(NS).list().getItems().isEmpty());
        client.services().inNamespace(NS).delete();
        client.resources(EndpointSlice.class).inNamespace(NS).delete();
        client.resources(VMNetwork.class).delete();
        await().atMost(WAIT).until(() -> client.resources(VMNetwork.class).list().getItems().isEmpty());
    }

    void node(String name) {
        PlayedNodes.register(client, name, 64, "64Gi");
    }

    VMNetwork network(String name, String cidr, int vni) {
        VMNetwork network = new VMNetwork();
        network.setMetadata(new ObjectMetaBuilder().withName(name).build());
        VMNetworkSpec spec = new VMNetworkSpec();
        spec.setCidr(cidr);
        spec.setVni(vni);
        network.setSpec(spec);
        return client.resource(network).create();
    }

    static VirtualMachine vm(String name, String networkName, Map<String, String> labels) {
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setState(VmState.Running);
        spec.setMemory("256Mi");
        BootSpec boot = new BootSpec();
        boot.setKernel(new FileRef("vmlinuz"));
        spec.setBoot(boot);
        NetworkSpec network = new NetworkSpec();
        network.setMode(NetworkMode.overlay);
        network.setNetworkName(networkName);
        spec.setNetwork(network);
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).withLabels(labels).build());
        vm.setSpec(spec);
        return vm;
    }

    VirtualMachine getVm(String name) {
        return client.resources(VirtualMachine.class).inNamespace(NS).withName(name).get();
    }

    VirtualMachineInstance getVmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace(NS).withName(name).get();
    }

    VMNetwork getNetwork(String name) {
        return client.resources(VMNetwork.class).withName(name).get();
    }

    VirtualMachine awaitVm(String name, Predicate<VirtualMachine> until) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
            VirtualMachine vm = getVm(name);
            return vm != null && vm.getStatus() != null && until.test(vm);
        });
        return getVm(name);
    }

    static boolean addressed(VirtualMachine vm) {
        return vm.getStatus().getNetwork() != null && vm.getStatus().getNetwork().getIpAddress() != null;
    }

    List<Event> events(String name) {
        return client.v1().events().inNamespace(NS).list().getItems().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
    }

    void setState(String name, VmState state) {
        client.resources(VirtualMachine.class).inNamespace(NS).withName(name)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"state\":\"" + state + "\"}}");
    }

    void reportReady(String name) {
        PlayedNodes.reportReady(client, getVmi(name), "guest ready");
    }

    void delete(String name) {
        client.resources(VirtualMachine.class).inNamespace(NS).withName(name).delete();
        await().atMost(WAIT).until(() -> getVm(name) == null);
    }

    @Test
    void anOverlayVmGetsAnAddressInItsInstanceSpecAndStatusKeptThroughStateChanges() {
        client.resource(vm("web", null, null)).create();

        await().atMost(WAIT).until(() -> getVmi("web") != null);
        OverlayAttachment onInstance = getVmi("web").getSpec().getOverlay();
        assertThat(onInstance.getNetworkName()).isEqualTo("default");
        assertThat(onInstance.getCidr()).isEqualTo("10.200.0.0/29");
        assertThat(onInstance.getVni()).isEqualTo(4200);
        assertThat(onInstance.getIpAddress()).isEqualTo("10.200.0.2");
        assertThat(onInstance.getMacAddress()).matches("02(:[0-9a-f]{2}){5}");

        VirtualMachine vm = awaitVm("web", OverlayNetworkingTest::addressed);
        OverlayAttachment record = vm.getStatus().getNetwork();
        assertThat(record.getNetworkName()).isEqualTo("default");
        assertThat(record.getIpAddress()).isEqualTo("10.200.0.2");
        assertThat(record.getMacAddress()).isEqualTo(onInstance.getMacAddress());
        assertThat(record.getCidr()).as("the segment is the instance's business").isNull();
        assertThat(record.getVni()).isNull();

        VMNetwork network = getNetwork("default");
        assertThat(network.getStatus().getAllocations()).singleElement().satisfies(a -> {
            assertThat(a.getIpAddress()).isEqualTo("10.200.0.2");
            assertThat(a.getMacAddress()).isEqualTo(record.getMacAddress());
            assertThat(a.getVm()).isEqualTo("default/web");
            assertThat(a.getVmUid()).isEqualTo(vm.getMetadata().getUid());
        });
        assertThat(network.getStatus().getAllocatedCount()).isEqualTo(1);
        assertThat(network.getStatus().getFreeCount()).isEqualTo(4);
        await().atMost(WAIT).until(() -> events("web").stream().anyMatch(e -> e.getReason().equals("AddressAllocated")));

        // Suspend, stop, Defined (no instance) and back: the same address and MAC all along.
        setState("web", VmState.Suspended);
        await().atMost(WAIT).until(() -> getVmi("web").getSpec().getState() == InstanceState.Suspended);
        setState("web", VmState.Stopped);
        await().atMost(WAIT).until(() -> getVmi("web").getSpec().getState() == InstanceState.Stopped);
        setState("web", VmState.Defined);
        await().atMost(WAIT).until(() -> getVmi("web") == null);
        assertThat(awaitVm("web", v -> v.getStatus().getPhase() == VmPhase.Defined).getStatus().getNetwork()).isEqualTo(record);
        setState("web", VmState.Running);
        await().atMost(WAIT).until(() -> getVmi("web") != null);
        assertThat(getVmi("web").getSpec().getOverlay()).isEqualTo(onInstance);
        assertThat(getNetwork("default").getStatus().getAllocations()).hasSize(1);
    }

    @Test
    void aRollbackKeepsTheAddressAndACloneGetsItsOwn() {
        client.resource(vm("orig", null, null)).create();
        await().atMost(WAIT).until(() -> getVmi("orig") != null);
        OverlayAttachment before = getVmi("orig").getSpec().getOverlay();

        // As RestoreReconciler rolls a VM back: annotations on the VM and the old instance deleted; the VM
        // controller starts the restored one.
        client.resources(VirtualMachine.class).inNamespace(NS).withName("orig").edit(v -> {
            v.getMetadata().setAnnotations(Map.of(Labels.RESTORE_ID, "restore-1", Labels.RESTORE_FROM, "orig-snap",
                    Labels.RESTORE_NODE, "node-a"));
            return v;
        });
        client.resources(VirtualMachineInstance.class).inNamespace(NS).withName("orig").delete();
        await().atMost(WAIT).until(() -> getVmi("orig") != null && getVmi("orig").getMetadata().getAnnotations() != null
                && "restore-1".equals(getVmi("orig").getMetadata().getAnnotations().get(Labels.RESTORE_ID)));
        VirtualMachineInstance restored = getVmi("orig");
        assertThat(restored.getSpec().getRestoreFrom().getName()).isEqualTo("orig-snap");
        assertThat(restored.getSpec().getOverlay()).as("the rolled-back VM keeps its address").isEqualTo(before);

        // As RestoreReconciler starts a clone: a new VM with the snapshot's spec.
        VirtualMachine clone = vm("orig-copy", null, null);
        clone.getMetadata().setAnnotations(Map.of(Labels.RESTORE_ID, "restore-2", Labels.RESTORE_FROM, "orig-snap",
                Labels.RESTORE_NODE, "node-a"));
        client.resource(clone).create();
        await().atMost(WAIT).until(() -> getVmi("orig-copy") != null);
        OverlayAttachment copy = getVmi("orig-copy").getSpec().getOverlay();
        assertThat(copy.getIpAddress()).isNotEqualTo(before.getIpAddress());
        assertThat(copy.getMacAddress()).isNotEqualTo(before.getMacAddress());
        assertThat(getNetwork("default").getStatus().getAllocations()).extracting(Allocation::getVm)
                .containsExactlyInAnyOrder("default/orig", "default/orig-copy");
    }

    @Test
    void aDeletedVmsAddressGoesToTheNextVmAndAFullNetworkSaysSo() {
        for (int i = 1; i <= 5; i++) {
            client.resource(vm("vm" + i, null, null)).create();
        }
        for (int i = 1; i <= 5; i++) {
            awaitVm("vm" + i, OverlayNetworkingTest::addressed);
        }
        Set<String> ips = new HashSet<>();
        for (int i = 1; i <= 5; i++) {
            ips.add(getVm("vm" + i).getStatus().getNetwork().getIpAddress());
        }
        assertThat(ips).containsExactlyInAnyOrder("10.200.0.2", "10.200.0.3", "10.200.0.4", "10.200.0.5", "10.200.0.6");

        client.resource(vm("late", null, null)).create();
        VirtualMachine late = awaitVm("late", v -> v.getStatus().getPhase() == VmPhase.Pending);
        var scheduled = Conditions.find(late.getStatus().getConditions(), "Scheduled").orElseThrow();
        assertThat(scheduled.getStatus()).isEqualTo("False");
        assertThat(scheduled.getReason()).isEqualTo("NetworkFull");
        assertThat(scheduled.getMessage()).isEqualTo("spec.network.networkName: VMNetwork \"default\" (10.200.0.0/29) has no free address:"
                + " all 5 are held; delete a VM on it, or give this VM another network (a VMNetwork with a larger spec.cidr)");
        assertThat(getVmi("late")).isNull();
        await().atMost(WAIT).until(() -> events("late").stream().anyMatch(e -> e.getType().equals("Warning") && e.getReason().equals("FailedScheduling")));

        String freed = getVm("vm3").getStatus().getNetwork().getIpAddress();
        delete("vm3");
        assertThat(getNetwork("default").getStatus().getAllocations()).extracting(Allocation::getVm).doesNotContain("default/vm3");
        VirtualMachine got = awaitVm("late", OverlayNetworkingTest::addressed);
        assertThat(got.getStatus().getNetwork().getIpAddress()).isEqualTo(freed);
        await().atMost(WAIT).until(() -> getVmi("late") != null);
        assertThat(getVmi("late").getSpec().getOverlay().getIpAddress()).isEqualTo(freed);
    }

    @Test
    void anUnknownNetworkOrABadCidrLeavesTheVmUnscheduledNamingTheFieldAndTheFix() {
        client.resource(vm("lost", "nowhere", null)).create();
        VirtualMachine lost = awaitVm("lost", v -> v.getStatus().getPhase() == VmPhase.Pending);
        var scheduled = Conditions.find(lost.getStatus().getConditions(), "Scheduled").orElseThrow();
        assertThat(scheduled.getReason()).isEqualTo("NetworkNotFound");
        assertThat(scheduled.getMessage()).isEqualTo("spec.network.networkName: VMNetwork \"nowhere\" does not exist; create it"
                + " (cluster-scoped, spec.cidr and spec.vni) or name one of `kubectl get vmnetworks`");
        assertThat(getVmi("lost")).isNull();
        await().atMost(WAIT).until(() -> events("lost").stream().anyMatch(e -> e.getType().equals("Warning")
                && e.getMessage().startsWith("spec.network.networkName")));

        // Created afterwards, the network gives the waiting VM its address.
        network("nowhere", "10.201.0.0/24", 4201);
        assertThat(awaitVm("lost", OverlayNetworkingTest::addressed).getStatus().getNetwork().getIpAddress()).isEqualTo("10.201.0.2");

        network("broken", "10.202.0.0/33", 4202);
        client.resource(vm("odd", "broken", null)).create();
        VirtualMachine odd = awaitVm("odd", v -> v.getStatus().getPhase() == VmPhase.Pending);
        assertThat(Conditions.find(odd.getStatus().getConditions(), "Scheduled").orElseThrow().getMessage())
                .startsWith("spec.network.networkName: VMNetwork \"broken\" is unusable: spec.cidr \"10.202.0.0/33\"");
        await().atMost(WAIT).until(() -> getNetwork("broken").getStatus() != null
                && Conditions.find(getNetwork("broken").getStatus().getConditions(), "Valid").map(c -> c.getStatus().equals("False")).orElse(false));
    }

    @Test
    void aSecondNetworkWithTheSameVniIsNotValid() {
        network("twin", "10.210.0.0/24", 4200);
        await().atMost(WAIT).until(() -> getNetwork("twin").getStatus() != null
                && Conditions.find(getNetwork("twin").getStatus().getConditions(), "Valid").isPresent());
        var twin = Conditions.find(getNetwork("twin").getStatus().getConditions(), "Valid").orElseThrow();
        assertThat(twin.getStatus()).isEqualTo("False");
        assertThat(twin.getMessage()).isEqualTo("spec.vni 4200 is already the VXLAN segment of VMNetwork default; give this network another vni");
        await().atMost(WAIT).until(() -> getNetwork("default").getStatus() != null
                && Conditions.isTrue(getNetwork("default").getStatus().getConditions(), "Valid"));
        assertThat(getNetwork("default").getStatus().getFreeCount()).isEqualTo(5);

        client.resource(vm("stranded", "twin", null)).create();
        VirtualMachine vm = awaitVm("stranded", v -> v.getStatus().getPhase() == VmPhase.Pending);
        assertThat(Conditions.find(vm.getStatus().getConditions(), "Scheduled").orElseThrow().getMessage())
                .isEqualTo("spec.network.networkName: VMNetwork \"twin\" is unusable: spec.vni 4200 is already the VXLAN segment of"
                        + " VMNetwork default; give this network another vni; fix the VMNetwork or name another network");
    }

    @Test
    void twoAllocatorsRacingNeverGiveOneAddressTwiceAndAgreeOnAVmTheyBothAllocate() throws Exception {
        network("race", "10.220.0.0/26", 4220); // 61 addresses
        // Real VMs (mode none, Defined: the operator leaves their addresses alone) so the network's
        // reconciler keeps their entries.
        List<VirtualMachine> vms = new ArrayList<>();
        for (int i = 0; i < 41; i++) {
            VirtualMachine vm = vm("racer-" + i, null, null);
            vm.getSpec().setNetwork(null);
            vm.getSpec().setState(VmState.Defined);
            vms.add(client.resource(vm).create());
        }
        VirtualMachine shared = vms.removeLast();
        CyclicBarrier start = new CyclicBarrier(2);
        List<NetworkAllocator> allocators = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<List<OverlayAttachment>>> results = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                List<VirtualMachine> mine = new ArrayList<>(vms.subList(t * 20, t * 20 + 20));
                mine.add(10, shared);
                results.add(pool.submit(() -> {
                    try (KubernetesClient own = new KubernetesClientBuilder().withConfig(client.getConfiguration()).build()) {
                        NetworkAllocator allocator = new NetworkAllocator(own);
                        allocators.add(allocator);
                        start.await();
                        List<OverlayAttachment> got = new ArrayList<>();
                        for (VirtualMachine vm : mine) {
                            var result = allocator.allocate(vm, "race", null);
                            assertThat(result).isInstanceOf(NetworkAllocator.Allocated.class);
                            got.add(((NetworkAllocator.Allocated) result).attachment());
                        }
                        return got;
                    }
                }));
            }
            List<OverlayAttachment> first = results.get(0).get();
            List<OverlayAttachment> second = results.get(1).get();
            assertThat(first.get(10)).as("both allocators see one address for the shared VM").isEqualTo(second.get(10));
            List<OverlayAttachment> all = new ArrayList<>(first);
            all.addAll(second);
            all.remove(10);
            assertThat(all).hasSize(41);
            assertThat(all.stream().map(OverlayAttachment::getIpAddress).distinct()).hasSize(41);
            assertThat(all.stream().map(OverlayAttachment::getMacAddress).distinct()).hasSize(41);
            VMNetwork race = getNetwork("race");
            assertThat(race.getStatus().getAllocations()).hasSize(41);
            assertThat(race.getStatus().getAllocatedCount()).isEqualTo(41);
            assertThat(race.getStatus().getFreeCount()).isEqualTo(20);
            assertThat(allocators.stream().mapToInt(NetworkAllocator::conflicts).sum())
                    .as("the allocators did collide, and the API server's 409 sent the loser back").isPositive();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aStatusWriteWithAStaleResourceVersionIsRefused() {
        VMNetwork stale = getNetwork("default");
        VirtualMachine vm = client.resource(vm("first", null, null)).create();
        awaitVm("first", OverlayNetworkingTest::addressed);
        assertThatThrownBy(() -> client.resources(VMNetwork.class).withName("default").subresource("status")
                .patch(PatchContext.of(PatchType.JSON), NetworkStatusWriter.patch(stale.getMetadata().getResourceVersion(),
                        new io.kubevmm.api.v1alpha1.VMNetworkStatus())))
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
        assertThat(getNetwork("default").getStatus().getAllocations()).extracting(Allocation::getVmUid)
                .containsExactly(vm.getMetadata().getUid());
    }

    @Test
    void aServiceSelectingVmsGetsAnEndpointSliceWithTheirAddressesReadinessAndTargetPorts() {
        client.resource(vm("api-1", null, Map.of("app", "api"))).create();
        client.resource(vm("api-2", null, Map.of("app", "api"))).create();
        client.resource(vm("other", null, Map.of("app", "other"))).create();
        client.services().inNamespace(NS).resource(new ServiceBuilder()
                .withNewMetadata().withName("api").withNamespace(NS).endMetadata()
                .withNewSpec().withSelector(Map.of("app", "api"))
                    .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString(8080)).withProtocol("TCP").endPort()
                    .addNewPort().withName("metrics").withPort(9100).withTargetPort(new IntOrString("metrics")).endPort()
                .endSpec().build()).create();
        String ip1 = awaitVm("api-1", OverlayNetworkingTest::addressed).getStatus().getNetwork().getIpAddress();
        String ip2 = awaitVm("api-2", OverlayNetworkingTest::addressed).getStatus().getNetwork().getIpAddress();

        await().atMost(WAIT).until(() -> slice("api") != null && slice("api").getEndpoints().size() == 2);
        EndpointSlice slice = slice("api");
        assertThat(slice.getMetadata().getLabels()).containsEntry("kubernetes.io/service-name", "api")
                .containsEntry("endpointslice.kubernetes.io/managed-by", "kubevmm.io");
        assertThat(slice.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
            assertThat(o.getKind()).isEqualTo("Service");
            assertThat(o.getName()).isEqualTo("api");
            assertThat(o.getUid()).isEqualTo(client.services().inNamespace(NS).withName("api").get().getMetadata().getUid());
        });
        assertThat(slice.getAddressType()).isEqualTo("IPv4");
        assertThat(slice.getEndpoints()).extracting(e -> e.getAddresses().getFirst()).containsExactly(ip1, ip2);
        assertThat(slice.getEndpoints()).allSatisfy(e -> assertThat(e.getConditions().getReady()).isFalse());
        assertThat(slice.getEndpoints().getFirst().getTargetRef().getKind()).isEqualTo("VirtualMachine");
        assertThat(slice.getPorts()).extracting(p -> p.getName() + "=" + p.getPort())
                .containsExactly("http=8080", "metrics=9100"); // a named targetPort means nothing to a VM: the port itself

        reportReady("api-1");
        await().atMost(WAIT).until(() -> Boolean.TRUE.equals(slice("api").getEndpoints().getFirst().getConditions().getReady()));
        assertThat(slice("api").getEndpoints().getFirst().getNodeName()).isEqualTo(getVmi("api-1").getSpec().getNodeName());

        // A label change takes the VM out; a new matching VM comes in; no VM left: no slice.
        client.resources(VirtualMachine.class).inNamespace(NS).withName("api-2")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"app\":\"moved\"}}}");
        await().atMost(WAIT).until(() -> slice("api").getEndpoints().size() == 1);
        client.resources(VirtualMachine.class).inNamespace(NS).withName("other")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"app\":\"api\"}}}");
        await().atMost(WAIT).until(() -> slice("api").getEndpoints().size() == 2);
        delete("api-1");
        delete("other");
        await().atMost(WAIT).until(() -> slice("api") == null);
        assertThat(client.v1().events().inNamespace(NS).list().getItems()).anySatisfy(e -> {
            assertThat(e.getInvolvedObject().getKind()).isEqualTo("Service");
            assertThat(e.getReason()).isEqualTo("VMEndpoints");
        });
    }

    EndpointSlice slice(String service) {
        return client.resources(EndpointSlice.class).inNamespace(NS).withName(service + "-kubevmm").get();
    }

    @Test
    void aServiceWithoutSelectorOrMatchingVmsGetsNoSlice() {
        client.resource(vm("lonely", null, Map.of("app", "lonely"))).create();
        awaitVm("lonely", OverlayNetworkingTest::addressed);
        client.services().inNamespace(NS).resource(new ServiceBuilder()
                .withNewMetadata().withName("manual").withNamespace(NS).endMetadata()
                .withNewSpec().addNewPort().withPort(80).endPort().endSpec().build()).create();
        client.services().inNamespace(NS).resource(new ServiceBuilder()
                .withNewMetadata().withName("pods").withNamespace(NS).endMetadata()
                .withNewSpec().withSelector(Map.of("app", "pod-only")).addNewPort().withPort(80).endPort().endSpec().build()).create();
        await().pollDelay(Duration.ofSeconds(2)).atMost(WAIT).until(() -> true);
        assertThat(client.resources(EndpointSlice.class).inNamespace(NS)
                .withLabel(VmEndpointSlices.MANAGED_BY_LABEL, VmEndpointSlices.MANAGED_BY).list().getItems()).isEmpty();
    }
}
