package io.kubevmm.e2e;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.api.v1alpha1.VmState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The real-cluster path: a k3s cluster in Docker, the images built from docker/*.Dockerfile and
 * loaded into it, the chart installed with Helm, then what a user does first: apply
 * examples/vm.yaml, wait for Running and Ready, suspend and resume it.
 * Needs a Docker engine; without one the whole class is skipped and says why.
 */
@Tag("k3s")
@EnabledIf(value = "dockerAvailable", disabledReason = K3sSystemTest.NO_DOCKER)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class K3sSystemTest {
    static final String NO_DOCKER = "no Docker engine (Testcontainers looked at DOCKER_HOST, ~/.testcontainers.properties "
            + "and /var/run/docker.sock); the k3s suite builds the images and runs k3s in Docker";
    static final String K3S_IMAGE = "rancher/k3s:v1.31.4-k3s1";
    static final String TAG = "k3s-test";
    static final String NAMESPACE = "kubevmm-system";
    /** Guests run under TCG inside a container unless the Docker host passes /dev/kvm through. */
    static final Duration BOOT = Duration.ofMinutes(5);

    K3sContainer k3s;
    KubernetesClient client;

    /** The class runs only where Testcontainers finds a Docker engine; elsewhere it is reported skipped. */
    static boolean dockerAvailable() {
        boolean docker = DockerClientFactory.instance().isDockerAvailable();
        if (!docker) {
            System.out.println("K3sSystemTest skipped: " + NO_DOCKER);
        }
        return docker;
    }

    @BeforeAll
    void startK3sWithKubeVmm(@TempDir Path work) throws Exception {
        Path repo = Path.of(System.getProperty("kubevmm.repo.root", "..")).toAbsolutePath();
        K3sImages.build(repo, "operator", TAG);
        K3sImages.build(repo, "node-runtime", TAG);

        k3s = new K3sContainer(DockerImageName.parse(K3S_IMAGE));
        k3s.start();
        K3sImages.load(k3s, "operator", TAG, work);
        K3sImages.load(k3s, "node-runtime", TAG, work);
        // The node runtime resolves the example's relative kernel/initrd paths in its image dir (a hostPath).
        for (String file : new String[] {"vmlinuz", "initrd.img"}) {
            k3s.copyFileToContainer(MountableFile.forHostPath(repo.resolve("guest/out").resolve(file).toRealPath()),
                    "/var/lib/kubevmm/images/" + file);
        }

        new Helm(repo.resolve("helm/kubevmm")).install()
                .withKubeConfigContents(k3s.getKubeConfigYaml())
                .withName("kubevmm").withNamespace(NAMESPACE).createNamespace()
                .set("operator.image.tag", TAG).set("operator.image.pullPolicy", "Never")
                .set("nodeRuntime.image.tag", TAG).set("nodeRuntime.image.pullPolicy", "Never")
                .waitReady().withTimeout(300)
                .call();
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml())).build();
    }

    @AfterAll
    void stop() {
        if (client != null) {
            client.close();
        }
        if (k3s != null) {
            k3s.stop();
        }
    }

    VirtualMachine demo() {
        return client.resources(VirtualMachine.class).inNamespace("default").withName("demo").get();
    }

    void awaitPhase(VmPhase phase, boolean ready) {
        await().atMost(BOOT).pollInterval(Duration.ofSeconds(1)).until(() -> {
            VirtualMachine vm = demo();
            return vm != null && vm.getStatus() != null && vm.getStatus().getPhase() == phase
                    && (!ready || Conditions.isTrue(vm.getStatus().getConditions(), "Ready"));
        });
    }

    @Test
    void theExampleVmRunsIsSuspendedAndResumedOnAHelmInstall() throws Exception {
        // One operator replica leads; its pod name holds the Lease.
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            var lease = client.leases().inNamespace(NAMESPACE).withName("kubevmm-operator").get();
            return lease != null && lease.getSpec().getHolderIdentity() != null
                    && lease.getSpec().getHolderIdentity().startsWith("kubevmm-operator-");
        });

        Path example = Path.of(System.getProperty("kubevmm.repo.root", "..")).resolve("examples/vm.yaml");
        try (var yaml = Files.newInputStream(example)) {
            client.resources(VirtualMachine.class).inNamespace("default").load(yaml).create();
        }
        awaitPhase(VmPhase.Running, true);
        assertThat(demo().getStatus().getNodeName()).isNotBlank();

        client.resources(VirtualMachine.class).inNamespace("default").withName("demo")
                .edit(vm -> { vm.getSpec().setState(VmState.Suspended); return vm; });
        awaitPhase(VmPhase.Suspended, false);

        client.resources(VirtualMachine.class).inNamespace("default").withName("demo")
                .edit(vm -> { vm.getSpec().setState(VmState.Running); return vm; });
        awaitPhase(VmPhase.Running, true);
    }
}
