package io.kubevmm.e2e;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Objects a hostile or careless user applies as raw YAML (what no typed client writes): the API
 * server refuses what the CRD's schema and CEL rules can say, naming the field; the operator
 * refuses the rest on each object alone (condition Valid=False naming the field), while it keeps
 * running VMs applied after them, also once it has restarted and read them all again at startup.
 */
class BadObjectSystemTest extends ClusterTestBase {
    static final ResourceDefinitionContext VMS = new ResourceDefinitionContext.Builder()
            .withGroup(Labels.GROUP).withVersion(Labels.VERSION).withKind("VirtualMachine").withPlural("virtualmachines")
            .withNamespaced(true).build();

    @Override
    String clusterDirName() {
        return "bad-objects";
    }

    /** Applies a VM as raw YAML, as kubectl would: the values reach the API server unchanged. */
    void applyRaw(String name, String specLines) {
        String yaml = """
                apiVersion: kubevmm.io/v1alpha1
                kind: VirtualMachine
                metadata: {name: %s, namespace: default}
                spec:
                """.formatted(name) + (specLines.contains("memory:") ? "" : "  memory: 256Mi\n") + (specLines.contains("boot:") ? "" : "  boot: {kernel: {path: vmlinuz}, initrd: {path: initrd.img}}\n")
                + specLines.indent(2);
        GenericKubernetesResource raw = client.getKubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class);
        client.genericKubernetesResources(VMS).inNamespace("default").resource(raw).create();
    }

    String invalidBecause(String name) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            VirtualMachine vm = get(name);
            return vm != null && vm.getStatus() != null && Conditions.find(vm.getStatus().getConditions(), "Valid")
                    .filter(c -> "False".equals(c.getStatus())).isPresent();
        });
        VirtualMachine vm = get(name);
        assertThat(vm.getStatus().getPhase()).as(name).isEqualTo(VmPhase.Failed);
        assertThat(vmi(name)).as("instance of " + name).isNull();
        return condition(vm, "Valid").getMessage();
    }

    void assertAllRefused() {
        assertThat(invalidBecause("bad-small")).isEqualTo("spec.memory 8Mi is too small; use at least 16Mi");
        assertThat(invalidBecause("bad-huge")).isEqualTo("spec.memory 2Ti is too large; use at most 1Ti");
        assertThat(invalidBecause("bad-path")).startsWith("spec.boot.kernel.path");
    }

    void assertRefusedByTheApiServer(String name, String specLines, String... named) {
        assertThatThrownBy(() -> applyRaw(name, specLines)).as(name)
                .isInstanceOf(KubernetesClientException.class)
                .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
                .hasMessageContainingAll(named);
        assertThat(get(name)).as(name + " stored").isNull();
    }

    @Test
    void badObjectsAreRefusedOneByOneAndGoodOnesRunAlsoAcrossAnOperatorRestart() throws Exception {
        // What the CRD's schema and CEL rules say, the API server enforces, naming the field.
        assertRefusedByTheApiServer("bad-cpu", "cpu: 99999999999", "spec.cpu", "64");
        assertRefusedByTheApiServer("bad-profile", "profile: xen", "spec.profile", "Unsupported value: \"xen\"");
        assertRefusedByTheApiServer("bad-state", "state: Flying", "spec.state", "Unsupported value: \"Flying\"");
        StringBuilder disks = new StringBuilder("disks:\n");
        for (int i = 0; i < 25; i++) {
            disks.append("- {name: d").append(i).append(", size: 1Mi}\n");
        }
        assertRefusedByTheApiServer("bad-disks", disks.toString(), "spec", "microvm attaches at most 24");
        assertRefusedByTheApiServer("bad-cmdline", "boot: {kernel: {path: vmlinuz}, cmdline: " + "x".repeat(70_000) + "}",
                "spec.boot.cmdline", "1920");
        // What a schema cannot say (a quantity's size, a path that leaves the image directory), the operator does.
        applyRaw("bad-small", "memory: 8Mi");
        applyRaw("bad-huge", "memory: 2Ti");
        applyRaw("bad-path", "boot: {kernel: {path: ../../etc/shadow}, initrd: {path: initrd.img}}");

        client.resource(vm("good-1", "256Mi", "idle")).create();
        awaitPhase("good-1", VmPhase.Running, true);
        assertAllRefused();
        // What the user applied is still what is stored: the operator's writes did not drop it.
        GenericKubernetesResource stored = client.genericKubernetesResources(VMS).inNamespace("default").withName("bad-path").get();
        assertThat(((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) stored.getAdditionalProperties().get("spec")).get("boot")).get("kernel")).get("path"))
                .hasToString("../../etc/shadow");

        if (cluster != null) {
            // A restarted operator lists every VM at startup, the bad ones included.
            cluster.kill9(LocalCluster.OPERATOR);
            cluster.restart(LocalCluster.OPERATOR);
        }
        client.resource(vm("good-2", "256Mi", "idle")).create();
        awaitPhase("good-2", VmPhase.Running, true);
        assertAllRefused();
        if (cluster != null) {
            assertThat(java.nio.file.Files.readString(cluster.home().log(LocalCluster.OPERATOR))).doesNotContain("will stop");
        }

        for (String name : new String[] {"good-1", "good-2", "bad-small", "bad-huge", "bad-path"}) {
            deleteAndAwaitGone(name);
        }
    }
}
