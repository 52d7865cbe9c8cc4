package io.kubevmm.e2e;

import io.fabric8.kubernetes.client.KubernetesClient;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

import static org.awaitility.Awaitility.await;

/**
 * A real Kubernetes control plane on loopback (the API server on the underlay bridge's address
 * when the nodes are separate hosts): etcd, kube-apiserver (RBAC authorization,
 * ServiceAccount tokens) and kube-controller-manager (garbage collector, namespace and
 * ServiceAccount controllers), from the binaries {@code bin/kube-binaries} builds. Its data (etcd,
 * key material, ports) lives in {@code <home>/control-plane/} and survives a stop, so the next
 * start is warm and keeps every object; {@link #purge} removes it.
 */
final class ControlPlane {
    static final String ETCD = "etcd";
    static final String API_SERVER = "kube-apiserver";
    static final String CONTROLLER_MANAGER = "kube-controller-manager";
    /** In start order; stopped in reverse. */
    static final List<String> COMPONENTS = List.of(ETCD, API_SERVER, CONTROLLER_MANAGER);
    private static final Duration READY = Duration.ofSeconds(90);

    private final ClusterHome home;
    private final PrintStream out;
    private final Pki pki;

    ControlPlane(ClusterHome home, PrintStream out) {
        this.home = home;
        this.out = out;
        this.pki = new Pki(dir().resolve("pki"));
    }

    Path dir() { return home.dir().resolve("control-plane"); }

    Path caCert() { return pki.caCert(); }

    boolean running() {
        return Processes.alive(home.pidFile(API_SERVER)).isPresent();
    }

    /**
     * Starts the three components from {@code binaries} and returns once the API server is ready
     * ({@code /readyz}: storage, RBAC bootstrap roles, every post-start hook), with the admin
     * kubeconfig written to {@link ClusterHome#kubeconfig()}. The API server listens on {@code address}.
     * Returns its URL.
     */
    String start(Path binaries, String address) throws IOException, InterruptedException {
        long started = System.nanoTime();
        pki.ensure(address);
        Map<String, Integer> ports = ports();
        String etcd = "http://127.0.0.1:" + ports.get("etcd-client");
        String peer = "http://127.0.0.1:" + ports.get("etcd-peer");
        Files.createDirectories(dir().resolve("etcd"));
        Files.setPosixFilePermissions(dir().resolve("etcd"), PosixFilePermissions.fromString("rwx------"));
        launch(binaries, ETCD, List.of(
                "--name=kubevmm", "--data-dir=" + dir().resolve("etcd"),
                "--listen-client-urls=" + etcd, "--advertise-client-urls=" + etcd,
                "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
                "--initial-cluster=kubevmm=" + peer,
                // A try-out cluster on one machine: losing the last writes in a power cut is acceptable, waiting on fsync is not.
                "--unsafe-no-fsync", "--log-level=warn"));
        awaitHealthy(ETCD, () -> etcdHealthy(etcd));

        int apiPort = ports.get("kube-apiserver");
        String url = "https://" + address + ":" + apiPort;
        launch(binaries, API_SERVER, List.of(
                "--etcd-servers=" + etcd,
                "--bind-address=" + address, "--advertise-address=" + address, "--secure-port=" + apiPort,
                "--cert-dir=" + dir().resolve("pki"),
                "--tls-cert-file=" + pki.cert("apiserver"), "--tls-private-key-file=" + pki.key("apiserver"),
                "--client-ca-file=" + pki.caCert(),
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file=" + pki.serviceAccountPublicKey(),
                "--service-account-signing-key-file=" + pki.serviceAccountKey(),
                "--service-cluster-ip-range=10.0.0.0/24",
                // No pods reach it through Service "kubernetes"; its Endpoints cannot hold a loopback address anyway.
                "--endpoint-reconciler-type=none",
                // One user and a handful of components: fairness queues only cost start-up time here.
                "--enable-priority-and-fairness=false",
                "--profiling=false"));
        writeKubeconfig(home.kubeconfig(), url, "kubevmm-admin", Map.of(
                "client-certificate-data", base64(pki.cert("admin")), "client-key-data", base64(pki.key("admin"))), "default");
        try (KubernetesClient client = LocalCluster.client(home.kubeconfig())) {
            awaitHealthy(API_SERVER, () -> ready(client));
        }

        Path kcmKubeconfig = dir().resolve("controller-manager.kubeconfig");
        writeKubeconfig(kcmKubeconfig, url, "system:kube-controller-manager", Map.of(
                "client-certificate-data", base64(pki.cert("controller-manager")),
                "client-key-data", base64(pki.key("controller-manager"))), "kube-system");
        launch(binaries, CONTROLLER_MANAGER, List.of(
                "--kubeconfig=" + kcmKubeconfig,
                "--controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller",
                // As kubeadm runs it: each controller acts as its own ServiceAccount (bootstrap roles system:controller:*).
                "--use-service-account-credentials=true",
                "--service-account-private-key-file=" + pki.serviceAccountKey(),
                "--root-ca-file=" + pki.caCert(),
                "--leader-elect=false",
                "--bind-address=127.0.0.1", "--secure-port=" + ports.get("kube-controller-manager")));
        out.printf("control plane up in %.1fs: etcd %s, kube-apiserver %s, kube-controller-manager%n",
                (System.nanoTime() - started) / 1e9, etcd, url);
        return url;
    }

    /** Stops the components (controller manager first, etcd last). Returns those that were running. */
    List<String> stop() {
        List<String> stopped = new ArrayList<>();
        for (String component : COMPONENTS.reversed()) {
            if (Processes.stop(home.pidFile(component), 10)) {
                stopped.add(component);
            }
        }
        return stopped;
    }

    /** Removes the control plane's data: every object, the key material, the ports. Call after {@link #stop}. */
    void purge() throws IOException {
        Trees.delete(dir());
    }

    /**
     * The ports of the last start when they are still free (a kubeconfig copied elsewhere keeps
     * working; etcd's member keeps its peer URL), otherwise new ones; remembered in ports.properties.
     */
    private Map<String, Integer> ports() throws IOException {
        Path file = dir().resolve("ports.properties");
        Properties saved = new Properties();
        if (Files.exists(file)) {
            try (var in = Files.newInputStream(file)) {
                saved.load(in);
            }
        }
        Properties now = new Properties();
        Map<String, Integer> ports = new java.util.LinkedHashMap<>();
        for (String name : List.of("etcd-client", "etcd-peer", "kube-apiserver", "kube-controller-manager")) {
            String previous = saved.getProperty(name);
            int port = previous != null && Processes.portFree(Integer.parseInt(previous)) ? Integer.parseInt(previous) : Processes.freePort();
            ports.put(name, port);
            now.setProperty(name, Integer.toString(port));
        }
        Files.createDirectories(dir());
        try (var o = Files.newOutputStream(file)) {
            now.store(o, "ports of the local control plane");
        }
        return ports;
    }

    private void launch(Path binaries, String component, List<String> args) throws IOException {
        Path binary = binaries.resolve(component);
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is missing; bin/kube-binaries builds it");
        }
        List<String> command = new ArrayList<>(List.of(binary.toString()));
        command.addAll(args);
        Processes.start(command, Map.of(), home.log(component), home.pidFile(component));
    }

    private void awaitHealthy(String component, Callable<Boolean> healthy) {
        try {
            await().atMost(READY).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100))
                    .failFast(component + " exited", () -> Processes.alive(home.pidFile(component)).isEmpty())
                    .ignoreExceptions().until(healthy);
        } catch (org.awaitility.core.ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
            throw new IllegalStateException(component + " did not become ready (" + e.getMessage() + "); its log ("
                    + home.log(component) + ") ends:\n" + Processes.tail(home.log(component), 20));
        }
    }

    private static boolean etcdHealthy(String url) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 && response.body().contains("\"health\":\"true\"");
        }
    }

    private static boolean ready(KubernetesClient client) throws Exception {
        var http = client.getHttpClient();
        var request = http.newHttpRequestBuilder().uri(client.getMasterUrl() + "readyz").build();
        return http.sendAsync(request, String.class).get().code() == 200;
    }

    static String base64(Path file) throws IOException {
        return Base64.getEncoder().encodeToString(Files.readAllBytes(file));
    }

    /** Writes a one-context kubeconfig (owner-only, atomically) that trusts this control plane's CA. */
    void writeKubeconfig(Path file, String url, String user, Map<String, String> credentials, String namespace) throws IOException {
        StringBuilder userFields = new StringBuilder();
        credentials.forEach((k, v) -> userFields.append("    ").append(k).append(": ").append(v).append('\n'));
        String yaml = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: kubevmm-local
                  cluster:
                    server: %s
                    certificate-authority-data: %s
                contexts:
                - name: kubevmm-local
                  context:
                    cluster: kubevmm-local
                    user: %s
                    namespace: %s
                current-context: kubevmm-local
                users:
                - name: %s
                  user:
                %s""".formatted(url, base64(pki.caCert()), user, namespace, user, userFields);
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, yaml);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
