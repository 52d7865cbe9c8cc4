package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.Crds;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineStatus;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.api.v1alpha1.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the CLI in-process against fabric8's mock API server in CRUD mode with KubeVMM's CRDs
 * registered: the same kind of API server the local cluster uses.
 */
abstract class MockClusterTest {
    /** Held so the level sticks: the mock server logs every request through JUL. */
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    /** What one CLI invocation did. */
    record Run(int code, String out, String err) { }

    KubernetesMockServer server;
    KubernetesClient client;
    @TempDir
    Path workDir;
    final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void startApiServer() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        client = server.createClient();
        Crds.all().forEach(crd -> client.resource(crd).create());
    }

    @AfterEach
    void stopApiServer() {
        client.close();
        server.destroy();
    }

    Run kubevmm(String... args) {
        return kubevmm(new StringWriter(), args);
    }

    /** Runs with {@code out} visible to the caller while the command still runs (console --follow). */
    Run kubevmm(StringWriter out, String... args) {
        StringWriter err = new StringWriter();
        KubeVmm root = new KubeVmm(new Environment(env, workDir, workDir, client));
        var cmd = KubeVmm.commandLine(root);
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    Path file(String name, String content) throws Exception {
        Path path = workDir.resolve(name);
        Files.writeString(path, content);
        return path;
    }

    static String vmYaml(String name, String memory) {
        return """
                apiVersion: kubevmm.io/v1alpha1
                kind: VirtualMachine
                metadata:
                  name: %s
                spec:
                  state: Running
                  memory: %s
                  boot:
                    kernel: {path: vmlinuz}
                    initrd: {path: initrd.img}
                  readiness: {serialPattern: KUBEVMM-GUEST-READY}
                """.formatted(name, memory);
    }

    /** Creates a VM straight through the API, as if applied earlier. */
    VirtualMachine createVm(String name) {
        VirtualMachine vm = new VirtualMachine();
        vm.getMetadata().setName(name);
        vm.getMetadata().setNamespace("default");
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setState(VmState.Running);
        spec.setMemory("256Mi");
        BootSpec boot = new BootSpec();
        boot.setKernel(new FileRef("vmlinuz"));
        spec.setBoot(boot);
        vm.setSpec(spec);
        return client.resources(VirtualMachine.class).inNamespace("default").resource(vm).create();
    }

    /** Writes the VM's status the way the operator does (status subresource). */
    void setVmStatus(String name, VmPhase phase, String node, Condition... conditions) {
        VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace("default").withName(name).get();
        VirtualMachineStatus status = new VirtualMachineStatus();
        status.setPhase(phase);
        status.setNodeName(node);
        status.setConditions(List.of(conditions));
        vm.setStatus(status);
        client.resources(VirtualMachine.class).inNamespace("default").resource(vm).updateStatus();
    }

    VirtualMachine vm(String name) {
        return client.resources(VirtualMachine.class).inNamespace("default").withName(name).get();
    }

    static Condition condition(String type, String status, String reason, String message) {
        return new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message)
                .withLastTransitionTime(Instant.now().minusSeconds(30).toString()).build();
    }

    /**
     * Runs a fake node or operator on its own thread. Not the common pool: with 2 cores it has a
     * single thread, which the fabric8 client's own async completions need.
     */
    static java.util.concurrent.CompletableFuture<Void> inBackground(Runnable fake) {
        var done = new java.util.concurrent.CompletableFuture<Void>();
        Thread.ofPlatform().daemon().name("fake-cluster-side").start(() -> {
            try {
                fake.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    /** Lets time pass in a fake node or operator thread, so the command under test sees each step. */
    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
