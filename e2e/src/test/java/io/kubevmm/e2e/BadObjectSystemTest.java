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
 * Objects a hostile or careless user applies as raw YAML (what no typed client writes): each is
 * refused on its own, naming the field, while the operator keeps running VMs applied after them,
 * also once it has restarted and read them all again at startup.
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
                  memory: 256Mi
                """.formatted(name) + (specLines.contains("boot:") ? "" : "  boot: {kernel: {path: vmlinuz}, initrd: {path: initrd.img}}\n")
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
        assertThat(invalidBecause("bad-cpu")).isEqualTo("spec.cpu 99999999999 is out of range (1-64)");
        assertThat(invalidBecause("bad-profile")).isEqualTo("spec.profile \"xen\" is not one of microvm, standard");
        assertThat(invalidBecause("bad-state")).isEqualTo("spec.state \"Flying\" is not one of Defined, Stopped, Running, Suspended");
        assertThat(invalidBecause("bad-disks"))
                .isEqualTo("spec.disks has 200 disks; profile microvm attaches at most 24 (microvm has 24 virtio-mmio slots)");
    }

    @Test
    void badObjectsAreRefusedOneByOneAndGoodOnesRunAlsoAcrossAnOperatorRestart() throws Exception {
        applyRaw("bad-cpu", "cpu: 99999999999");
        applyRaw("bad-profile", "profile: xen");
        applyRaw("bad-state", "state: Flying");
        StringBuilder disks = new StringBuilder("disks:\n");
        for (int i = 0; i < 200; i++) {
            disks.append("- {name: d").append(i).append(", size: 1Mi}\n");
        }
        applyRaw("bad-disks", disks.toString());
        // The API server refuses this one itself (the CRD's maxLength), naming the field.
        assertThatThrownBy(() -> applyRaw("bad-cmdline", "boot: {kernel: {path: vmlinuz}, cmdline: " + "x".repeat(70_000) + "}"))
                .isInstanceOf(KubernetesClientException.class)
                .hasMessageContaining("spec.boot.cmdline").hasMessageContaining("1920");

        client.resource(vm("good-1", "256Mi", "idle")).create();
        awaitPhase("good-1", VmPhase.Running, true);
        assertAllRefused();
        // What the user applied is still what is stored: the operator's writes did not drop it.
        GenericKubernetesResource stored = client.genericKubernetesResources(VMS).inNamespace("default").withName("bad-cpu").get();
        assertThat(((Map<?, ?>) stored.getAdditionalProperties().get("spec")).get("cpu")).hasToString("99999999999");

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

        for (String name : new String[] {"good-1", "good-2", "bad-cpu", "bad-profile", "bad-state", "bad-disks"}) {
            deleteAndAwaitGone(name);
        }
    }
}
