package io.kubevmm.e2e;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.VMNetwork;
import io.kubevmm.api.v1alpha1.VMNode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A KubeVMM cluster on this machine: a real Kubernetes control plane ({@link ControlPlane}), the
 * operator and N node runtimes, each a separate process with its own log (and, for nodes, state
 * dir) under the cluster home, each authenticated as the chart's ServiceAccount for it. Used by
 * {@code bin/kubevmm local} and by the system tests.
 */
public final class LocalCluster {
    static final String OPERATOR = "operator";
    private static final List<String> JVM_OPTIONS = List.of("--enable-native-access=ALL-UNNAMED",
            "-XX:+UseSerialGC", "-Xmx192m", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

    private final Path repo;
    private final ClusterHome home;
    private final PrintStream out;
    private final ControlPlane controlPlane;
    /** How each process was started, so tests can kill and restart one the same way. */
    private final Map<String, Launch> launches = new java.util.concurrent.ConcurrentHashMap<>();
    /** The node runtimes' image directory; default the built guest, {@code <repo>/guest/out}. */
    private Path imageDir;
    /** Where the control plane's binaries are (known once {@link #up} ran). */
    private Path binaries;
    /** The nodes as separate hosts (a network namespace each), or null: all on this machine's loopback. */
    private HostNetwork hosts;
    private String hostOverlayAddress;
    /** The node runtimes' VXLAN port and segment MTU (node-runtime's Segment), which this machine's device must match. */
    private static final int VXLAN_PORT = 4789;
    private static final int OVERLAY_MTU = 1450;
    private boolean sameHost;

    private record Launch(List<String> command, Map<String, String> env) { }

    public LocalCluster(Path repo, Path homeDir, PrintStream out) {
        this.repo = repo.toAbsolutePath();
        this.home = new ClusterHome(homeDir.toAbsolutePath());
        this.out = out;
        this.controlPlane = new ControlPlane(home, out);
    }

    public ClusterHome home() { return home; }

    /** Gives the node runtimes another image directory (before {@link #up}); it must hold vmlinuz and initrd.img. */
    public LocalCluster imageDir(Path dir) {
        this.imageDir = dir.toAbsolutePath();
        return this;
    }

    /**
     * Runs every node runtime on this machine's loopback instead of as separate hosts (before
     * {@link #up}). Separate hosts, a network namespace per node runtime with its own underlay
     * address, are the default where they can be made (root).
     */
    public LocalCluster sameHost() {
        this.sameHost = true;
        return this;
    }

    /** Whether the nodes are separate hosts (known once {@link #up} ran). */
    public boolean separateHosts() {
        return hosts != null;
    }

    /** The address node runtimes reach this machine at: a server for them listens there. */
    public String hostAddress() {
        return hosts == null ? "127.0.0.1" : hosts.hostAddress();
    }

    /**
     * This machine's address on the default VMNetwork once it joined it (separate hosts): the last
     * address of the network's range, so {@code curl http://<vm-ip>:<port>} works from here.
     */
    public java.util.Optional<String> hostOverlayAddress() {
        return java.util.Optional.ofNullable(hostOverlayAddress);
    }

    /**
     * Joins this machine to the default VMNetwork the chart created (its cidr and vni), taking the
     * last address of the range: the allocator hands out the lowest free ones, so a guest gets it
     * only when the range is otherwise full. A machine that cannot join (another local cluster holds
     * the segment's VXLAN identifier here) is told so and the cluster comes up without that route.
     */
    private void joinDefaultOverlay(KubernetesClient admin, int nodes) throws IOException, InterruptedException {
        VMNetwork network = admin.resources(VMNetwork.class).withName("default").get();
        if (network == null || network.getSpec() == null) {
            return;
        }
        String[] cidr = network.getSpec().getCidr().split("/");
        int prefix = Integer.parseInt(cidr[1]);
        long base = 0;
        for (String octet : cidr[0].split("\\.")) {
            base = (base << 8) | Integer.parseInt(octet);
        }
        long last = (base | ((1L << (32 - prefix)) - 1)) - 1;
        String address = (last >> 24 & 255) + "." + (last >> 16 & 255) + "." + (last >> 8 & 255) + "." + (last & 255);
        try {
            hosts.joinOverlay(network.getSpec().getVni(), address, prefix, VXLAN_PORT, OVERLAY_MTU, nodes);
            hostOverlayAddress = address;
            out.printf("this machine joined VMNetwork default as %s: guests are reachable here by their overlay addresses%n", address);
        } catch (IllegalStateException e) {
            out.printf("note: this machine could not join VMNetwork default (%s); guests are reachable only from other guests%n",
                    e.getMessage().strip());
        }
    }

    /** {@code base} plus {@code key=value} unless the value is null. */
    private static Map<String, String> env(Map<String, String> base, String key, String value) {
        Map<String, String> env = new java.util.LinkedHashMap<>(base);
        if (value != null) {
            env.put(key, value);
        }
        return env;
    }

    /** Cuts node {@code name}'s link to the underlay (separate hosts only), or restores it. */
    public void nodeLink(String name, boolean up) throws IOException, InterruptedException {
        if (hosts == null) {
            throw new IllegalStateException("only separate hosts have links to cut (this cluster runs on one host)");
        }
        hosts.link(name.charAt(name.length() - 1) - 'a', up);
    }

    public static String nodeName(int index) {
        return "node-" + (char) ('a' + index);
    }

    public boolean running() {
        return controlPlane.running();
    }

    /** Starts everything and returns once every node runtime has registered its VMNode. */
    public void up(int nodes, String nodeMemory) throws IOException, InterruptedException {
        if (running()) {
            out.println("local cluster already running (" + home.dir() + "); `bin/kubevmm local down` stops it");
            return;
        }
        requireApp("operator"); // fail before starting anything
        Path nodeJar = requireApp("node-runtime");
        binaries = controlPlaneBinaries();
        Files.createDirectories(home.dir());
        Files.deleteIfExists(home.kubeconfig());
        String token = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
        Files.writeString(home.nodeToken(), token);
        Files.setPosixFilePermissions(home.nodeToken(), PosixFilePermissions.fromString("rw-------"));

        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> nodeNames = IntStream.range(0, nodes).mapToObj(LocalCluster::nodeName).toList();
        if (!sameHost && HostNetwork.available()) {
            hosts = new HostNetwork(home.dir());
            hosts.create(nodeNames);
        }
        controlPlane.start(binaries, hosts == null ? "127.0.0.1" : hosts.hostAddress());
        try (KubernetesClient admin = client()) {
            ClusterInstall.install(admin, repo.resolve("helm/kubevmm"));
            if (hosts != null) {
                joinDefaultOverlay(admin, nodes);
            }
        }

        startOperator(OPERATOR);
        for (int i = 0; i < nodes; i++) {
            String name = nodeNames.get(i);
            int port = Processes.freePort();
            String address = hosts == null ? "127.0.0.1" : hosts.nodeAddress(i);
            out.printf("starting node runtime %s (API on %s:%d, state in %s)%n", name, address, port, home.nodeStateDir(name));
            launch(name, hosts == null ? javaApp(java, nodeJar) : hosts.inNamespace(name, javaApp(java, nodeJar)), env(Map.of(
                            "KUBEVMM_NODE_ADVERTISE_ADDRESS", address,
                            "KUBECONFIG", identity(name, ClusterInstall.NODE_ACCOUNT).toString(),
                            "KUBEVMM_NODE_NAME", name,
                            "KUBEVMM_NODE_PORT", Integer.toString(port),
                            "KUBEVMM_NODE_TUNNEL_PORT", Integer.toString(Processes.freePort()),
                            "KUBEVMM_NODE_API_TOKEN", token,
                            "KUBEVMM_NODE_STATE_DIR", home.nodeStateDir(name).toString(),
                            "KUBEVMM_NODE_IMAGE_DIR", (imageDir != null ? imageDir : repo.resolve("guest/out")).toString(),
                            "KUBEVMM_NODE_CAPACITY_MEMORY", nodeMemory,
                            // vCPUs are overcommitted as on any hypervisor; the host's core count would cap a laptop at 2 VMs.
                            "KUBEVMM_NODE_CAPACITY_CPU", "8"),
                    // This machine is a member of the overlay (joinDefaultOverlay), so the nodes flood to it too.
                    "KUBEVMM_NODE_OVERLAY_HOSTS", hostOverlayAddress == null ? null : hosts.hostAddress()));
        }
        awaitNodes(nodes, Duration.ofSeconds(120));
        out.printf("local cluster up: %d node(s); kubeconfig %s (kubectl --kubeconfig %s get vmnodes)%n",
                nodes, home.kubeconfig(), home.kubeconfig());
    }

    /** The kubectl of the control plane's release when bin/kube-binaries built it, else the one on PATH. */
    public String kubectl() {
        return binaries != null && Files.isExecutable(binaries.resolve("kubectl")) ? binaries.resolve("kubectl").toString() : "kubectl";
    }

    /**
     * The control plane's binaries: bin/kube-binaries builds them on first use (it says what it does
     * and how long it takes) and names their directory.
     */
    private Path controlPlaneBinaries() throws IOException, InterruptedException {
        Process build = new ProcessBuilder("bash", repo.resolve("bin/kube-binaries").toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String printed = new String(build.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        if (build.waitFor() != 0 || printed.isEmpty()) {
            throw new IllegalStateException("the control plane's binaries are not available (bin/kube-binaries said why, above)");
        }
        return Path.of(printed.lines().reduce((a, b) -> b).orElseThrow());
    }

    /** Writes the kubeconfig process {@code name} runs with: a fresh token of ServiceAccount {@code account}. */
    private Path identity(String name, String account) throws IOException {
        Path kubeconfig = home.identity(name);
        try (KubernetesClient admin = client()) {
            controlPlane.writeKubeconfig(kubeconfig, admin.getMasterUrl().toString().replaceAll("/$", ""),
                    "system:serviceaccount:" + ClusterInstall.NAMESPACE + ":" + account,
                    Map.of("token", ClusterInstall.token(admin, account)), ClusterInstall.NAMESPACE);
        }
        return kubeconfig;
    }

    /**
     * Starts an operator process named {@code name}, which is also its identity in the leader Lease
     * {@code kubevmm-operator}: a second one stands by while the first holds the Lease.
     */
    public void startOperator(String name) throws IOException {
        out.println("starting " + name);
        launch(name, javaApp(ProcessHandle.current().info().command().orElse("java"), requireApp("operator")), Map.of(
                "KUBECONFIG", identity(name, ClusterInstall.OPERATOR_ACCOUNT).toString(),
                "KUBEVMM_OPERATOR_PORT", Integer.toString(Processes.freePort()),
                "KUBEVMM_OPERATOR_IDENTITY", name));
    }

    private void launch(String name, List<String> command, Map<String, String> env) throws IOException {
        launches.put(name, new Launch(command, env));
        Processes.start(command, env, home.log(name), home.pidFile(name));
    }

    /** Kills one of the cluster's processes with SIGKILL: no shutdown hook, no cleanup. */
    public void kill9(String name) throws InterruptedException {
        var process = Processes.alive(home.pidFile(name)).orElseThrow(() -> new IllegalStateException(name + " is not running"));
        process.destroyForcibly();
        while (Processes.running(process)) {
            Thread.sleep(20);
        }
    }

    /**
     * Starts a process again exactly as {@link #up} started it. For a node runtime it returns once
     * its API serves again (health answers), as a node is back for its users only then: a console
     * read right after the process started would be refused.
     */
    public void restart(String name) throws IOException, InterruptedException {
        Launch launch = launches.get(name);
        if (launch == null) {
            throw new IllegalStateException(name + " was not started by this launcher");
        }
        Processes.start(launch.command(), launch.env(), home.log(name), home.pidFile(name));
        String port = launch.env().get("KUBEVMM_NODE_PORT");
        if (port != null) {
            awaitHealthy(name, launch.env().get("KUBEVMM_NODE_ADVERTISE_ADDRESS") + ":" + port,
                    launch.env().get("KUBEVMM_NODE_API_TOKEN"), Duration.ofSeconds(120));
        }
    }

    private void awaitHealthy(String name, String endpoint, String token, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        java.net.http.HttpRequest health = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://" + endpoint + "/api/v1/health"))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(5)).build();
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            while (true) {
                try {
                    if (http.send(health, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        return;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                if (System.nanoTime() > deadline || Processes.alive(home.pidFile(name)).isEmpty()) {
                    throw new IllegalStateException(name + " did not serve its API again within " + timeout.toSeconds()
                            + "s; its log (" + home.log(name) + ") ends:\n" + Processes.tail(home.log(name), 20));
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * Stops every process the cluster started, QEMU guests included, and keeps its data: the
     * control plane's objects and the nodes' disks and snapshots are there again after {@link #up}.
     * Returns what it stopped.
     */
    public List<String> down() throws IOException {
        return down(false);
    }

    /** {@link #down()}; with {@code purge} also removes all the cluster's data (objects, disks, snapshots, keys). */
    public List<String> down(boolean purge) throws IOException {
        List<String> stopped = new ArrayList<>();
        hostOverlayAddress = null;
        // Node runtimes and the operator first, so nothing restarts a guest we are about to end.
        for (String name : processNames()) {
            if (!ControlPlane.COMPONENTS.contains(name) && Processes.stop(home.pidFile(name), 10)) {
                stopped.add(name);
            }
        }
        // Every QEMU whose arguments point into this cluster's state dirs, pidfile or not.
        qemus().stopAll(5).forEach(q -> stopped.add(q.toString()));
        // A node runtime leaves its fence guard running while highly available guests run (docs/ha.md).
        fenceGuards().stopAll().forEach(g -> stopped.add(g.toString()));
        for (Path qemuPid : qemuPidFiles()) {
            Files.deleteIfExists(qemuPid);
        }
        stopped.addAll(controlPlane.stop());
        // The namespaces of separate hosts, whether this launcher or an earlier one made them.
        try {
            stopped.addAll((hosts != null ? hosts : new HostNetwork(home.dir())).delete());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(home.kubeconfig());
        if (purge) {
            controlPlane.purge();
            Trees.delete(home.nodesDir());
            Trees.delete(home.identitiesDir());
        }
        return stopped;
    }

    public void status() throws IOException {
        for (String name : processNames()) {
            out.printf("%-12s %s%n", name, Processes.alive(home.pidFile(name)).map(p -> "running (pid " + p.pid() + ")").orElse("stopped"));
        }
        out.printf("%-12s %d running%n", "qemu", qemus().running().size());
        out.printf("%-12s %d running%n", "fence-guard", fenceGuards().running().size());
        if (running() && Files.exists(home.kubeconfig())) {
            try (KubernetesClient client = client()) {
                for (VMNode node : client.resources(VMNode.class).list().getItems()) {
                    var s = node.getStatus();
                    out.printf("vmnode %-8s ready=%s accel=%s vms=%s heartbeat=%s%n", node.getMetadata().getName(),
                            s != null && Conditions.isTrue(s.getConditions(), "Ready"), s == null ? "?" : s.getAccelerator(),
                            s == null ? "?" : s.getVmCount(), s == null ? "?" : s.getHeartbeatTime());
                }
            }
        }
    }

    /** A client with the admin kubeconfig ({@code system:masters}). */
    public KubernetesClient client() throws IOException {
        return client(home.kubeconfig());
    }

    static KubernetesClient client(Path kubeconfig) throws IOException {
        return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build();
    }

    /** A client authenticated as the process {@code name} of this cluster is (its ServiceAccount token). */
    public KubernetesClient clientAs(String name) throws IOException {
        return client(home.identity(name));
    }

    private List<String> processNames() throws IOException {
        Path pids = home.dir().resolve("pids");
        if (!Files.isDirectory(pids)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(pids)) {
            return files.map(p -> p.getFileName().toString().replace(".pid", "")).sorted().toList();
        }
    }

    /** The QEMUs of this cluster, found by the state dirs their command lines name (benchmarks kill a node's). */
    public ClusterQemus qemus() {
        return new ClusterQemus(home.nodesDir());
    }

    /** The fence guards of this cluster's nodes (docs/ha.md). */
    FenceGuards fenceGuards() {
        return new FenceGuards(home.nodesDir());
    }

    private List<Path> qemuPidFiles() throws IOException {
        if (!Files.isDirectory(home.nodesDir())) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(home.nodesDir(), 4)) {
            return files.filter(p -> p.getFileName().toString().equals("qemu.pid")).toList();
        }
    }

    private List<String> javaApp(String java, Path jar) {
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(JVM_OPTIONS);
        if (Runtime.version().feature() >= 23) {
            cmd.add("--sun-misc-unsafe-memory-access=allow"); // netty, until it stops using Unsafe
        }
        cmd.addAll(List.of("-jar", jar.toString()));
        return cmd;
    }

    private Path requireApp(String module) {
        Path jar = repo.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(module + " is not built (" + jar + " missing); build it with: "
                    + "mvn -B -DskipTests package");
        }
        return jar;
    }

    private void awaitNodes(int nodes, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> started = new ArrayList<>(List.of(OPERATOR));
        for (int i = 0; i < nodes; i++) {
            started.add(nodeName(i));
        }
        try (KubernetesClient client = client()) {
            long registered = 0;
            while (System.nanoTime() < deadline) {
                registered = client.resources(VMNode.class).list().getItems().stream()
                        .filter(n -> n.getStatus() != null && Conditions.isTrue(n.getStatus().getConditions(), "Ready")).count();
                if (registered >= nodes) {
                    return;
                }
                for (String process : started) {
                    if (Processes.alive(home.pidFile(process)).isEmpty()) {
                        throw new IllegalStateException(process + " exited; its log (" + home.log(process) + ") ends:\n"
                                + Processes.tail(home.log(process), 20));
                    }
                }
                Thread.sleep(250);
            }
            throw new IllegalStateException("only " + registered + " of " + nodes + " node runtimes registered within "
                    + timeout.toSeconds() + "s; see the logs in " + home.dir().resolve("logs"));
        }
    }
}
