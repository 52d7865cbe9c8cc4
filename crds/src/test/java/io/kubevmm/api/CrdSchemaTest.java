package io.kubevmm.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.kubevmm.api.v1alpha1.Crds;
import io.kubevmm.api.v1alpha1.QuantityPattern;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What `kubectl get` and `kubectl explain` show users, and what an API server enforces. */
class CrdSchemaTest {

    static CustomResourceDefinitionVersion version(String kind) {
        CustomResourceDefinition crd = Crds.all().stream()
                .filter(c -> c.getSpec().getNames().getKind().equals(kind)).findFirst().orElseThrow();
        return crd.getSpec().getVersions().getFirst();
    }

    static JSONSchemaProps spec(String kind) {
        return version(kind).getSchema().getOpenAPIV3Schema().getProperties().get("spec");
    }

    static JSONSchemaProps status(String kind) {
        return version(kind).getSchema().getOpenAPIV3Schema().getProperties().get("status");
    }

    static String[] columns(String kind) {
        return version(kind).getAdditionalPrinterColumns().stream().map(CustomResourceColumnDefinition::getName)
                .toArray(String[]::new);
    }

    @Test
    void everyKindIsServedAsV1alpha1InTheKubevmmGroupWithItsShortName() {
        assertThat(Crds.all()).extracting(c -> c.getMetadata().getName()).containsExactly(
                "virtualmachines.kubevmm.io", "virtualmachineinstances.kubevmm.io", "vmnodes.kubevmm.io",
                "vmmigrations.kubevmm.io", "vmsnapshots.kubevmm.io", "vmrestores.kubevmm.io", "vmnetworks.kubevmm.io");
        assertThat(Crds.all()).extracting(c -> c.getSpec().getNames().getShortNames().getFirst())
                .containsExactly("vm", "vmi", "vmnode", "vmmig", "vmsnap", "vmrestore", "vmnet");
        assertThat(Crds.all()).allSatisfy(c -> {
            assertThat(c.getSpec().getVersions()).singleElement()
                    .satisfies(v -> assertThat(v.getName()).isEqualTo("v1alpha1"))
                    .satisfies(v -> assertThat(v.getSubresources().getStatus()).isNotNull());
        });
        assertThat(Crds.all()).extracting(c -> c.getSpec().getScope())
                .containsExactly("Namespaced", "Namespaced", "Cluster", "Namespaced", "Namespaced", "Namespaced", "Cluster");
    }

    @Test
    void kubectlGetShowsTheColumnsTheDesignPromises() {
        assertThat(columns("VirtualMachine")).contains("Phase", "Node", "Ready", "Age");
        assertThat(columns("VirtualMachineInstance")).contains("Phase", "Node", "PID", "Accel", "Boot-ms", "Age");
        assertThat(columns("VMNode")).contains("Accel", "VMs", "CPU", "Memory", "Age");
        assertThat(columns("VMMigration")).contains("VM", "Source", "Target", "Phase", "Downtime-ms", "Total-ms");
        assertThat(columns("VMSnapshot")).contains("VM", "Type", "Phase", "Age");
        assertThat(columns("VMRestore")).contains("Snapshot", "Phase", "Age");
    }

    @Test
    void enumsAndDefaultsReachTheSchemaSpelledAsTheApi() {
        JSONSchemaProps vm = spec("VirtualMachine");
        assertThat(vm.getProperties().get("profile").getEnum()).extracting(JsonNode::asText)
                .containsExactlyInAnyOrder("microvm", "standard");
        assertThat(vm.getProperties().get("profile").getDefault().asText()).isEqualTo("microvm");
        assertThat(vm.getProperties().get("state").getEnum()).hasSize(4);
        assertThat(vm.getProperties().get("restartPolicy").getDefault().asText()).isEqualTo("Always");
        assertThat(vm.getProperties().get("cpu").getDefault().asInt()).isEqualTo(1);
        assertThat(vm.getProperties().get("terminationGracePeriodSeconds").getDefault().asLong()).isEqualTo(30);
        assertThat(status("VirtualMachine").getProperties().get("phase").getEnum()).hasSize(13);
        assertThat(status("VirtualMachineInstance").getProperties().get("phase").getEnum()).hasSize(12);

        JSONSchemaProps migration = spec("VMMigration");
        assertThat(migration.getRequired()).containsExactly("vmName");
        assertThat(migration.getProperties().get("strategy").getDefault().asText()).isEqualTo("Auto");
        assertThat(migration.getProperties().get("maxDowntimeMillis").getDefault().asLong()).isEqualTo(300);
        assertThat(migration.getProperties().get("autoConverge").getDefault().asBoolean()).isTrue();
        assertThat(spec("VMRestore").getRequired()).containsExactlyInAnyOrder("snapshotName", "targetVmName");
    }

    @Test
    void sizesAreCheckedAsQuantitiesByTheApiServer() {
        JSONSchemaProps vm = spec("VirtualMachine");
        assertThat(vm.getProperties().get("memory").getPattern()).isEqualTo(QuantityPattern.REGEX);
        assertThat(vm.getProperties().get("memory").getDefault().asText()).isEqualTo("256Mi");
        JSONSchemaProps disk = vm.getProperties().get("disks").getItems().getSchema();
        assertThat(disk.getProperties().get("size").getPattern()).isEqualTo(QuantityPattern.REGEX);
        assertThat(disk.getXKubernetesValidations()).singleElement()
                .satisfies(rule -> assertThat(rule.getRule()).isEqualTo("has(self.size) != has(self.source)"));
        assertThat(spec("VirtualMachineInstance").getProperties().get("memory").getPattern()).isEqualTo(QuantityPattern.REGEX);
    }

    @Test
    void everyFieldExplainsItselfToKubectlExplain() {
        for (CustomResourceDefinition crd : Crds.all()) {
            JSONSchemaProps root = crd.getSpec().getVersions().getFirst().getSchema().getOpenAPIV3Schema();
            assertDescribed(crd.getMetadata().getName(), root.getProperties().get("spec"));
            assertDescribed(crd.getMetadata().getName(), root.getProperties().get("status"));
        }
    }

    private static void assertDescribed(String path, JSONSchemaProps node) {
        if (node == null || node.getProperties() == null) {
            return;
        }
        node.getProperties().forEach((name, child) -> {
            String at = path + "." + name;
            boolean conditionInternals = path.contains(".conditions");
            if (!conditionInternals) {
                assertThat(child.getDescription()).as("description of " + at).isNotBlank();
            }
            assertDescribed(at, child);
            if (child.getItems() != null && child.getItems().getSchema() != null) {
                assertDescribed(at + "[]", child.getItems().getSchema());
            }
        });
    }
}
