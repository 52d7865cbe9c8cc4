package io.kubevmm.node.ha;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kubevmm.api.v1alpha1.Crds;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.testing.Vmis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The boot gate of highly available guests goes by the instance as the API server has it now:
 * a runtime whose cache still places a moved VM here must not boot a second copy.
 */
class PlacementTest {
    @TempDir
    Path stateRoot;
    private KubernetesMockServer server;
    private KubernetesClient client;
    private Placement placement;

    @BeforeEach
    void start() {
        java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        // No retries: the test of an API that cannot answer would otherwise wait out the backoff.
        client = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(
                new io.fabric8.kubernetes.client.ConfigBuilder(io.fabric8.kubernetes.client.Config.empty())
                        .withMasterUrl(server.url("/")).withTrustCerts(true)
                        .withRequestRetryBackoffLimit(0).withConnectionTimeout(1000).build()).build();
        Crds.all().forEach(crd -> client.resource(crd).create());
        placement = new Placement(client, "node-a");
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    private Path stateDir(String name, boolean marked) throws Exception {
        Path dir = stateRoot.resolve("default_" + name);
        FenceMarker.set(dir, marked);
        java.nio.file.Files.createDirectories(dir);
        return dir;
    }

    private void instance(String name, String node, boolean restartAnnotated) {
        VirtualMachineInstance vmi = Vmis.vmi(name, node, "128Mi", "idle", InstanceState.Running);
        vmi.getMetadata().setNamespace("default");
        if (restartAnnotated) {
            vmi.getMetadata().setAnnotations(Map.of(HighAvailabilitySpec.FENCE_ANNOTATION, HighAvailabilitySpec.Mode.Restart.name()));
        }
        client.resource(vmi).create();
    }

    @Test
    void aFencedGuestBootsOnlyWhileItsInstanceNamesThisNodeAndFencingAllows() throws Exception {
        Path dir = stateDir("ha", true);
        instance("ha", "node-a", true);

        assertThat(placement.mayBoot(dir, () -> true)).isTrue();
        assertThat(placement.mayBoot(dir, () -> false)).as("Lease not held or no fence guard").isFalse();

        VirtualMachineInstance moved = client.resources(VirtualMachineInstance.class).inNamespace("default").withName("ha").get();
        moved.getSpec().setNodeName("node-b");
        client.resource(moved).update();
        assertThat(placement.mayBoot(dir, () -> true)).as("moved to node-b by the operator").isFalse();
    }

    @Test
    void aFencedGuestWhoseInstanceIsGoneDoesNotBoot() throws Exception {
        assertThat(placement.mayBoot(stateDir("gone", true), () -> true)).isFalse();
    }

    @Test
    void theInstanceSaysAGuestIsHighlyAvailableWhenItsMarkerIsGone() throws Exception {
        Path dir = stateDir("unmarked", false);
        instance("unmarked", "node-b", true);
        assertThat(placement.mayBoot(dir, () -> true)).as("annotated Restart, placed elsewhere").isFalse();
    }

    @Test
    void aGuestThatIsNotHighlyAvailableBootsAsBefore() throws Exception {
        Path dir = stateDir("plain", false);
        instance("plain", "node-b", false);
        assertThat(placement.mayBoot(dir, () -> false)).isTrue();
        assertThat(placement.mayBoot(stateDir("no-instance", false), () -> false)).isTrue();
    }

    @Test
    void whenTheApiCannotAnswerOnlyTheFencedGuestWaits() throws Exception {
        Path marked = stateDir("marked", true);
        Path plain = stateDir("plain", false);
        server.destroy();
        assertThat(placement.mayBoot(marked, () -> true)).isFalse();
        assertThat(placement.mayBoot(plain, () -> true)).isTrue();
    }
}
