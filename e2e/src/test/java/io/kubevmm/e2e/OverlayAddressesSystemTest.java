package io.kubevmm.e2e;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.NetworkSpec;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.api.v1alpha1.VMNetwork;
import io.kubevmm.api.v1alpha1.VMNetworkSpec;
import io.kubevmm.api.v1alpha1.VMNetworkStatus;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineStatus;
import io.kubevmm.api.v1alpha1.VmState;
import io.kubevmm.operator.network.NetworkAllocator;
import io.kubevmm.operator.network.NetworkStatusWriter;
import io.kubevmm.operator.service.VmEndpointSlices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operator's overlay allocation and VM EndpointSlices against the real control plane
 * (etcd, kube-apiserver, kube-controller-manager; no operator or node runtimes): the API server's
 * own optimistic concurrency decides the races, the chart's RBAC authorizes the operator's
 * ServiceAccount, the API server validates the slices and the garbage collector removes them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OverlayAddressesSystemTest {
    static final String NS = "overlay-test";

    Path repo;
    Path home;
    KubernetesClient admin;
    KubernetesClient operator;

    @BeforeAll
    void controlPlane() throws Exception {
        repo = Path.of(System.getProperty("kubevmm.repo.root", "..")).toAbsolutePath();
        home = repo.resolve("e2e/target/overlay-addresses");
        new LocalCluster(repo, home, System.out).down(true);
        ControlPlane controlPlane = new ControlPlane(new ClusterHome(home), System.out);
        Process build = new ProcessBuilder("bash", repo.resolve("bin/kube-binaries").toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String printed = new String(build.getInputStream().readAllBytes()).strip();
        assertThat(build.waitFor()).as("bin/kube-binaries").isZero();
        String url = controlPlane.start(Path.of(printed.lines().reduce((a, b) -> b).orElseThrow()), "127.0.0.1");
        admin = LocalCluster.client(new ClusterHome(home).kubeconfig());
        ClusterInstall.install(admin, repo.resolve("helm/kubevmm"));
        Path identity = home.resolve("identities/operator-test.kubeconfig");
        controlPlane.writeKubeconfig(identity, url, "system:serviceaccount:" + ClusterInstall.NAMESPACE + ":" + ClusterInstall.OPERATOR_ACCOUNT,
                Map.of("token", ClusterInstall.token(admin, ClusterInstall.OPERATOR_ACCOUNT)), ClusterInstall.NAMESPACE);
        operator = LocalCluster.client(identity);
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
    }

    @AfterAll
    void stop() throws Exception {
        if (operator != null) {
            operator.close();
        }
        if (admin != null) {
            admin.close();
        }
        new LocalCluster(repo, home, System.out).down(true);
        assertThat(Files.exists(home.resolve("control-plane"))).as("control plane data purged").isFalse();
    }

    VirtualMachine vm(String name, Map<String, String> labels) {
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setState(VmState.Defined);
        spec.setMemory("256Mi");
        BootSpec boot = new BootSpec();
        boot.setKernel(new FileRef("vmlinuz"));
        spec.setBoot(boot);
        NetworkSpec network = new NetworkSpec();
        network.setMode(NetworkMode.none); // the operator process is not running; the test allocates
        spec.setNetwork(network);
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).withLabels(labels).build());
        vm.setSpec(spec);
        return admin.resource(vm).create();
    }

    VMNetwork network(String name, String cidr, int vni) {
        VMNetwork network = new VMNetwork();
        network.setMetadata(new ObjectMetaBuilder().withName(name).build());
        VMNetworkSpec spec = new VMNetworkSpec();
        spec.setCidr(cidr);
        spec.setVni(vni);
        network.setSpec(spec);
        return admin.resource(network).create();
    }

    @Test
    void theLocalClusterHasTheChartsDefaultNetwork() {
        VMNetwork network = admin.resources(VMNetwork.class).withName("default").get();
        assertThat(network).as("VMNetwork default from the chart's values").isNotNull();
        assertThat(network.getSpec().getCidr()).isEqualTo("10.200.0.0/16");
        assertThat(network.getSpec().getVni()).isEqualTo(4200);
    }

    @Test
    void twoAllocatorsAsTheOperatorsAccountRacingNeverShareAnAddress() throws Exception {
        network("race", "10.230.0.0/26", 4230);
        List<VirtualMachine> vms = new ArrayList<>();
        for (int i = 0; i < 41; i++) {
            vms.add(vm("racer-" + i, null));
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
                    try (KubernetesClient own = LocalCluster.client(home.resolve("identities/operator-test.kubeconfig"))) {
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
            assertThat(first.get(10)).as("one address for the VM both allocated").isEqualTo(second.get(10));
            List<OverlayAttachment> all = new ArrayList<>(first);
            all.addAll(second);
            all.remove(10);
            assertThat(all.stream().map(OverlayAttachment::getIpAddress).distinct()).hasSize(41);
            assertThat(all.stream().map(OverlayAttachment::getMacAddress).distinct()).hasSize(41);
            VMNetwork race = admin.resources(VMNetwork.class).withName("race").get();
            assertThat(race.getStatus().getAllocations()).hasSize(41);
            assertThat(race.getStatus().getFreeCount()).isEqualTo(20);
            int conflicts = allocators.stream().mapToInt(NetworkAllocator::conflicts).sum();
            System.out.println("racing allocators: 42 allocations, " + conflicts + " conflicts (409) retried");
            assertThat(conflicts).as("the allocators collided and kube-apiserver sent the loser back").isPositive();

            // Released by uid (the VM's deletion), the address goes to the next VM.
            String freed = first.get(3).getIpAddress();
            NetworkAllocator allocator = new NetworkAllocator(operator);
            assertThat(allocator.release(vms.get(3).getMetadata().getUid())).containsExactly("race");
            var next = allocator.allocate(vm("newcomer", null), "race", null);
            assertThat(((NetworkAllocator.Allocated) next).attachment().getIpAddress()).isEqualTo(freed);
        } finally {
            pool.shutdownNow();
            admin.resources(VirtualMachine.class).inNamespace(NS).delete();
            admin.resources(VMNetwork.class).withName("race").delete();
        }
    }

    @Test
    void kubeApiServerRefusesAStaleAddressBookWrite() {
        network("stale", "10.231.0.0/24", 4231);
        try {
            VMNetwork read = operator.resources(VMNetwork.class).withName("stale").get();
            var allocated = new NetworkAllocator(operator).allocate(vm("holder", null), "stale", null);
            assertThat(allocated).isInstanceOf(NetworkAllocator.Allocated.class);
            assertThat(NetworkStatusWriter.write(operator, read, new VMNetworkStatus()))
                    .as("a write based on the version read before the allocation: 409 Conflict").isFalse();
            assertThat(admin.resources(VMNetwork.class).withName("stale").get().getStatus().getAllocations()).hasSize(1);
        } finally {
            admin.resources(VirtualMachine.class).inNamespace(NS).delete();
            admin.resources(VMNetwork.class).withName("stale").delete();
        }
    }

    @Test
    void aVmEndpointSliceIsAcceptedByKubeApiServerAndCollectedWithItsService() {
        VirtualMachine web = vm("web", Map.of("app", "web"));
        // Only the operator (not running here) refuses overlay VMs in this release; the API takes them.
        web.getSpec().getNetwork().setMode(NetworkMode.overlay);
        web.getSpec().getNetwork().setNetworkName("default");
        web = admin.resource(web).update();
        VirtualMachineStatus status = new VirtualMachineStatus();
        OverlayAttachment record = new OverlayAttachment();
        record.setNetworkName("default");
        record.setIpAddress("10.200.0.2");
        record.setMacAddress("02:11:22:33:44:55");
        status.setNetwork(record);
        status.setNodeName("node-a");
        web.setStatus(status);
        web = admin.resource(web).updateStatus();
        Service service = admin.resource(new ServiceBuilder()
                .withNewMetadata().withName("web").withNamespace(NS).endMetadata()
                .withNewSpec().withSelector(Map.of("app", "web"))
                    .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString(8080)).endPort()
                .endSpec().build()).create();
        try {
            List<EndpointSlice> slices = VmEndpointSlices.desired(service, List.of(web));
            assertThat(slices).hasSize(1);
            EndpointSlice created = operator.resource(slices.getFirst()).create(); // the operator's RBAC, the server's validation
            assertThat(created.getEndpoints()).singleElement().satisfies(e -> {
                assertThat(e.getAddresses()).containsExactly("10.200.0.2");
                assertThat(e.getNodeName()).isEqualTo("node-a");
                assertThat(e.getTargetRef().getKind()).isEqualTo("VirtualMachine");
            });
            assertThat(created.getPorts()).singleElement().satisfies(p -> assertThat(p.getPort()).isEqualTo(8080));
            assertThat(operator.resources(EndpointSlice.class).inNamespace(NS)
                    .withLabel("kubernetes.io/service-name", "web").list().getItems()).hasSize(1);

            admin.resource(service).delete();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).alias("garbage collector deletes the slice")
                    .until(() -> admin.resources(EndpointSlice.class).inNamespace(NS).withName("web-kubevmm").get() == null);
        } finally {
            admin.services().inNamespace(NS).withName("web").delete();
            admin.resources(VirtualMachine.class).inNamespace(NS).delete();
        }
    }
}
