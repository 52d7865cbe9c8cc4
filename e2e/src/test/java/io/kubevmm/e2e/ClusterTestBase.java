package io.kubevmm.e2e;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.ReadinessSpec;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.api.v1alpha1.VmState;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kubevmm.api.v1alpha1.VMNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole system as a user runs it: control plane, operator and two node runtimes as separate
 * processes, real QEMU guests. What a user applies and what the guest prints are the evidence.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@org.junit.jupiter.api.extension.ExtendWith({LogWindow.class, TestIsolation.class})
abstract class ClusterTestBase {
    static final Duration BOOT = Duration.ofSeconds(120);
    static final Pattern TICK = Pattern.compile("^tick (\\d+)", Pattern.MULTILINE);

    /** The local cluster this test started, or null when it runs against KUBEVMM_KUBECONFIG's cluster. */
    LocalCluster cluster;
    KubernetesClient client;
    String nodeToken;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void up() throws Exception {
        String external = System.getenv("KUBEVMM_KUBECONFIG");
        if (external != null && !external.isBlank()) {
            // A real cluster with KubeVMM installed (helm chart); the node API token comes from its Secret.
            client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(Path.of(external)))).build();
            nodeToken = System.getenv("KUBEVMM_NODE_TOKEN");
            assertThat(nodeToken).as("KUBEVMM_NODE_TOKEN (the node API token) with KUBEVMM_KUBECONFIG").isNotBlank();
            return;
        }
        Path repo = Path.of(System.getProperty("kubevmm.repo.root", "..")).toAbsolutePath();
        Path home = repo.resolve("e2e/target/" + clusterDirName());
        cluster = new LocalCluster(repo, home, System.out);
        cluster.down(true); // each class starts on an empty cluster: no objects, disks or keys of an earlier run
        beforeUp(cluster);
        cluster.up(2, "2Gi");
        client = cluster.client();
        nodeToken = Files.readString(cluster.home().nodeToken()).strip();
    }

    /** Each test class gets a cluster of its own under e2e/target. */
    abstract String clusterDirName();

    /** A test class's chance to configure its local cluster (e.g. its image directory) before it starts. */
    void beforeUp(LocalCluster cluster) throws IOException { }

    void assumeLocalCluster() {
        Assumptions.assumeTrue(cluster != null, "needs the processes of the local cluster (not run with KUBEVMM_KUBECONFIG)");
    }

    @AfterAll
    void down() throws IOException {
        if (client != null) {
            client.close();
        }
        if (cluster == null) {
            return;
        }
        // Every test removes what it made: a QEMU of this cluster still running now was left behind.
        List<String> leftBehind = cluster.qemus().running().stream().map(Object::toString).toList();
        cluster.down();
        assertThat(cluster.qemus().running()).as("QEMUs of this cluster still running after local down").isEmpty();
        assertThat(cluster.fenceGuards().running()).as("fence guards of this cluster still running after local down").isEmpty();
        assertThat(leftBehind).as("QEMUs the tests of this class left running (local down had to stop them)").isEmpty();
        assertNoNetworkLeft();
    }

    /**
     * After local down: no namespace, bridge or NAT table of the separate hosts (the nodes' own
     * bridges, VXLAN devices, taps and tables lived in their namespaces), no dnsmasq serving this
     * cluster's guests.
     */
    void assertNoNetworkLeft() throws IOException {
        HostNetwork hosts = new HostNetwork(cluster.home().dir());
        Process p = new ProcessBuilder("ip", "-o", "link", "show").redirectErrorStream(true).start();
        String links = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(links).as("links after local down").doesNotContain(hosts.bridge() + ":", hosts.bridge() + "v", hosts.overlayDevice() + ":");
        Path netns = Path.of("/run/netns");
        if (Files.isDirectory(netns)) {
            try (var names = Files.list(netns)) {
                assertThat(names.map(n -> n.getFileName().toString()).toList()).as("network namespaces after local down")
                        .noneMatch(n -> n.startsWith(hosts.namespace("")));
            }
        }
        Process tables = new ProcessBuilder("nft", "list", "tables").redirectErrorStream(true).start();
        assertThat(new String(tables.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).as("nftables tables after local down")
                .doesNotContain(hosts.natTable());
        String home = cluster.home().dir().toString();
        assertThat(ProcessHandle.allProcesses().filter(Processes::running)
                .filter(h -> h.info().commandLine().map(c -> c.contains("dnsmasq") && c.contains(home)).orElse(false)).toList())
                .as("dnsmasq of this cluster after local down").isEmpty();
    }

    /** What a command printed (stdout and stderr together) and its exit code. */
    record Cli(int code, String out) { }

    /** The real command line, as a user runs it, against this test's cluster (and its node API token). */
    Cli kubevmm(String... args) throws IOException, InterruptedException {
        return run(null, repo().resolve("bin/kubevmm").toString(), args);
    }

    /** kubectl against this test's cluster, in namespace default; {@code stdin} for {@code apply -f -}. */
    Cli kubectl(String stdin, String... args) throws IOException, InterruptedException {
        String kubeconfig = cluster != null ? cluster.home().kubeconfig().toString() : System.getenv("KUBEVMM_KUBECONFIG");
        List<String> all = new java.util.ArrayList<>(List.of("--kubeconfig", kubeconfig, "--namespace", "default"));
        all.addAll(List.of(args));
        return run(stdin, cluster != null ? cluster.kubectl() : "kubectl", all.toArray(String[]::new));
    }

    private Cli run(String stdin, String program, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(program));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(repo().toFile()).redirectErrorStream(true);
        if (cluster != null) {
            builder.environment().put("KUBECONFIG", cluster.home().kubeconfig().toString());
        }
        builder.environment().put("KUBEVMM_NODE_TOKEN", nodeToken);
        Process process = builder.start();
        try (var in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        byte[] out = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(5, java.util.concurrent.TimeUnit.MINUTES))
                .as(program + " " + String.join(" ", args) + " finished").isTrue();
        return new Cli(process.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static Path repo() {
        return Path.of(System.getProperty("kubevmm.repo.root", "..")).toAbsolutePath().normalize();
    }

    static VirtualMachine vm(String name, String memory, String workload) {
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setState(VmState.Running);
        spec.setMemory(memory);
        BootSpec boot = new BootSpec();
        boot.setKernel(new FileRef("vmlinuz"));
        boot.setInitrd(new FileRef("initrd.img"));
        boot.setCmdline("console=ttyS0 quiet kubevmm.workload=" + workload);
        spec.setBoot(boot);
        ReadinessSpec readiness = new ReadinessSpec();
        readiness.setSerialPattern("KUBEVMM-GUEST-READY");
        spec.setReadiness(readiness);
        spec.setTerminationGracePeriodSeconds(10L);
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).withNamespace("default").build());
        vm.setSpec(spec);
        return vm;
    }

    VirtualMachine get(String name) {
        return client.resources(VirtualMachine.class).inNamespace("default").withName(name).get();
    }

    VirtualMachineInstance vmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    /**
     * Read-modify-write of a VM's spec, as kubectl edit does: a 409 means the operator wrote the
     * VM's status in between (a new resourceVersion), so the change is made again on the fresh
     * object, the optimistic-concurrency loop every Kubernetes client runs.
     */
    void edit(String name, UnaryOperator<VirtualMachine> change) {
        for (int attempt = 1; ; attempt++) {
            try {
                client.resources(VirtualMachine.class).inNamespace("default").withName(name).edit(change);
                return;
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == 5) {
                    throw e;
                }
            }
        }
    }

    VirtualMachine awaitPhase(String name, VmPhase phase, boolean ready) {
        await().atMost(BOOT).pollInterval(Duration.ofMillis(200)).until(() -> {
            VirtualMachine vm = get(name);
            return vm != null && vm.getStatus() != null && vm.getStatus().getPhase() == phase
                    && (!ready || Conditions.isTrue(vm.getStatus().getConditions(), "Ready"));
        });
        return get(name);
    }

    static Condition condition(VirtualMachine vm, String type) {
        return Conditions.find(vm.getStatus().getConditions(), type).orElseThrow();
    }

    /** The guest's serial console through its node's authenticated API, as `kubevmm console` reads it. */
    String console(String name) throws IOException, InterruptedException {
        String node = vmi(name).getStatus().getNodeName();
        String endpoint = client.resources(VMNode.class).withName(node).get().getStatus().getEndpoint();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://" + endpoint + "/api/v1/namespaces/default/vms/" + name + "/console?lines=10000"))
                .header("Authorization", "Bearer " + nodeToken).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.ISO_8859_1));
        assertThat(response.statusCode()).as("console of " + name + " from " + endpoint).isEqualTo(200);
        return response.body();
    }

    /** Ticks straight from the console file on this machine: works while the VM's node runtime is down. */
    int lastTickOnDisk(String name) throws IOException {
        Matcher m = TICK.matcher(Files.readString(Path.of(vmi(name).getStatus().getConsoleLog()), StandardCharsets.ISO_8859_1));
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    int nodeCount() {
        return client.resources(VMNode.class).list().getItems().size();
    }

    int lastTick(String name) throws IOException, InterruptedException {
        Matcher m = TICK.matcher(console(name));
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    void awaitTickAbove(String name, int tick) {
        // Connection errors while a node runtime (re)starts are retried until the deadline.
        await().atMost(BOOT).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> lastTick(name) > tick);
    }

    void deleteAndAwaitGone(String name) {
        client.resources(VirtualMachine.class).inNamespace("default").withName(name).delete();
        await().atMost(BOOT).until(() -> get(name) == null && vmi(name) == null);
    }

    /** How long a migration may take in a system test before it counts as stuck (TCG on a loaded 2-core host). */
    static final Duration MIGRATION = Duration.ofMinutes(4);
    static final Set<VMMigrationStatus.Phase> MIGRATION_DONE = EnumSet.of(VMMigrationStatus.Phase.Succeeded,
            VMMigrationStatus.Phase.Failed, VMMigrationStatus.Phase.Cancelled);

    VMMigration migration(String name, String vmName, Consumer<VMMigrationSpec> settings) {
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName(vmName);
        settings.accept(spec);
        VMMigration migration = new VMMigration();
        migration.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).withNamespace("default").build());
        migration.setSpec(spec);
        return client.resource(migration).create();
    }

    VMMigration getMigration(String name) {
        return client.resources(VMMigration.class).inNamespace("default").withName(name).get();
    }

    /** Waits until the migration has ended (Succeeded, Failed or Cancelled) and returns it. */
    VMMigration awaitOutcome(String name) {
        await().atMost(MIGRATION).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            VMMigration m = getMigration(name);
            return m.getStatus() != null && MIGRATION_DONE.contains(m.getStatus().getPhase());
        });
        return getMigration(name);
    }

    void awaitMigrationPhase(String name, VMMigrationStatus.Phase phase) {
        await().atMost(MIGRATION).pollInterval(Duration.ofMillis(100)).until(() -> {
            VMMigration m = getMigration(name);
            return m.getStatus() != null && m.getStatus().getPhase() == phase;
        });
    }

    /** The last pass the guest's memory check reported on its console, -1 before the first. */
    int lastMemcheckPass(String vm) throws Exception {
        Matcher m = Pattern.compile("^memcheck ok (\\d+)", Pattern.MULTILINE).matcher(console(vm));
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }
}
