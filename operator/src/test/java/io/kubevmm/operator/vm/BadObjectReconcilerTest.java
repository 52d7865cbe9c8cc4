package io.kubevmm.operator.vm;

import io.kubevmm.operator.testing.PlayedNodes;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.operator.testing.RegisterCrds;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Objects no typed client could write (an overflowing cpu, an unknown profile or state, a too long
 * command line, 200 disks), stored raw: each is refused naming its field while the operator
 * keeps serving the good ones applied after them.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = RegisterCrds.class)
class BadObjectReconcilerTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final ResourceDefinitionContext VMS = new ResourceDefinitionContext.Builder()
            .withGroup(Labels.GROUP).withVersion(Labels.VERSION).withKind("VirtualMachine").withPlural("virtualmachines")
            .withNamespaced(true).build();

    @Inject
    KubernetesClient client;
    @Inject
    io.quarkiverse.operatorsdk.runtime.QuarkusConfigurationService configuration;

    @Test
    void aWatchThatStopsIsNoticedNotIgnored() {
        // Without a handler bean the extension installs none, and a stopped informer goes unnoticed.
        assertThat(configuration.getInformerStoppedHandler()).get().isInstanceOf(io.kubevmm.operator.health.InformerWatchdog.class);
    }

    void applyRaw(String name, String specLines) {
        String yaml = """
                apiVersion: kubevmm.io/v1alpha1
                kind: VirtualMachine
                metadata: {name: %s, namespace: default}
                spec:
                """.formatted(name) + (specLines.contains("boot:") ? "" : "  boot: {kernel: {path: vmlinuz}}\n") + specLines.indent(2);
        GenericKubernetesResource raw = client.getKubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class);
        client.genericKubernetesResources(VMS).inNamespace("default").resource(raw).create();
    }

    String validMessage(String name) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
            VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace("default").withName(name).get();
            return vm != null && vm.getStatus() != null && Conditions.find(vm.getStatus().getConditions(), "Valid")
                    .filter(c -> "False".equals(c.getStatus())).isPresent();
        });
        VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace("default").withName(name).get();
        assertThat(vm.getStatus().getPhase()).isEqualTo(VmPhase.Failed);
        return Conditions.find(vm.getStatus().getConditions(), "Valid").orElseThrow().getMessage();
    }

    @Test
    void eachBadObjectIsRefusedNamingItsFieldAndLaterGoodOnesStillRun() {
        node("node-a");
        applyRaw("bad-cpu", "cpu: 99999999999");
        applyRaw("bad-profile", "profile: xen");
        applyRaw("bad-state", "state: Flying");
        // Over the cap but under 64 KiB: the test API server's watch cannot carry a bigger object to
        // the Vert.x client (a fragmented WebSocket message stalls it), see ApiServerMain in e2e.
        applyRaw("bad-cmdline", "boot: {kernel: {path: vmlinuz}, cmdline: " + "x".repeat(3000) + "}");
        StringBuilder disks = new StringBuilder("disks:\n");
        for (int i = 0; i < 200; i++) {
            disks.append("- {name: d").append(i).append(", size: 1Mi}\n");
        }
        applyRaw("bad-disks", disks.toString());
        applyRaw("good", "memory: 256Mi");

        try {
            await().atMost(WAIT).until(() -> client.resources(VirtualMachineInstance.class).inNamespace("default").withName("good").get() != null);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            StringBuilder all = new StringBuilder();
            client.resources(VirtualMachine.class).inNamespace("default").list().getItems().forEach(v -> all.append(v.getMetadata().getName())
                    .append('=').append(v.getStatus() == null ? null : v.getStatus().getConditions()).append('\n'));
            throw new AssertionError("no instance for VM good; statuses: " + all, e);
        }
        assertThat(validMessage("bad-cpu")).isEqualTo("spec.cpu 99999999999 is out of range (1-64)");
        assertThat(validMessage("bad-profile")).isEqualTo("spec.profile \"xen\" is not one of microvm, standard");
        assertThat(validMessage("bad-state")).isEqualTo("spec.state \"Flying\" is not one of Defined, Stopped, Running, Suspended");
        assertThat(validMessage("bad-cmdline")).isEqualTo(
                "spec.boot.cmdline has 3000 characters; at most 1920 (x86 Linux takes 2047 and the node may append its own)");
        assertThat(validMessage("bad-disks")).isEqualTo("spec.disks has 200 disks; profile microvm attaches at most 24 (microvm has 24 virtio-mmio slots)");
        for (String bad : new String[] {"bad-cpu", "bad-profile", "bad-state", "bad-cmdline", "bad-disks"}) {
            assertThat(client.resources(VirtualMachineInstance.class).inNamespace("default").withName(bad).get()).as(bad).isNull();
        }
        // The user's value is still what is stored: the operator's status writes did not drop it.
        GenericKubernetesResource stored = client.genericKubernetesResources(VMS).inNamespace("default").withName("bad-cpu").get();
        assertThat(((Map<?, ?>) stored.getAdditionalProperties().get("spec")).get("cpu")).hasToString("99999999999");
    }

    private void node(String name) {
        PlayedNodes.register(client, name, 4, "4Gi");
    }
}
