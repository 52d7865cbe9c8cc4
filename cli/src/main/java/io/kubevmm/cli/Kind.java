package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMRestore;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;

import java.util.Arrays;
import java.util.Locale;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** The KubeVMM kinds the CLI knows, with every name a user may type for them (as kubectl accepts). */
enum Kind {
    VM(VirtualMachine.class, "vm", true),
    VMI(VirtualMachineInstance.class, "vmi", false),
    VMNODE(VMNode.class, "vmnode", true),
    VMMIG(VMMigration.class, "vmmig", true),
    VMSNAP(VMSnapshot.class, "vmsnap", true),
    VMRESTORE(VMRestore.class, "vmrestore", true);

    final Class<? extends HasMetadata> type;
    final String shortName;
    /** Whether users apply it; VMIs are written by the operator only. */
    final boolean applicable;

    Kind(Class<? extends HasMetadata> type, String shortName, boolean applicable) {
        this.type = type;
        this.shortName = shortName;
        this.applicable = applicable;
    }

    /** As in the manifests: VirtualMachine. */
    String kindName() {
        return HasMetadata.getKind(type);
    }

    /** As in messages: virtualmachine. */
    String singular() {
        return kindName().toLowerCase(Locale.ROOT);
    }

    String plural() {
        return HasMetadata.getPlural(type);
    }

    boolean namespaced() {
        return Namespaced.class.isAssignableFrom(type);
    }

    ResourceDefinitionContext context() {
        return ResourceDefinitionContext.fromResourceType(type);
    }

    /** How kubectl names one object in its output: virtualmachine.kubevmm.io/demo. */
    String ref(String name) {
        return singular() + "." + Labels.GROUP + "/" + name;
    }

    /** Where an object is, for messages: {@code in namespace default}, nothing for cluster-scoped kinds. */
    String where(String namespace) {
        return namespaced() ? " in namespace " + namespace : "";
    }

    private Set<String> names() {
        return new HashSet<>(List.of(shortName, shortName + "s", singular(), plural(), plural() + "." + Labels.GROUP));
    }

    /** The kind a user typed, in any of its names; unknown names list the known ones. */
    static Kind parse(String word) {
        String lower = word.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(k -> k.names().contains(lower)).findFirst()
                .orElseThrow(() -> new CliException("unknown kind \"" + word + "\"; known kinds: " + known()));
    }

    /** The kind of a manifest's {@code kind:} field, e.g. VirtualMachine. */
    static Kind ofManifest(String kindName) {
        return Arrays.stream(values()).filter(k -> k.kindName().equals(kindName)).findFirst().orElse(null);
    }

    static String known() {
        return Arrays.stream(values()).map(k -> k.shortName + " (" + k.kindName() + ")").collect(Collectors.joining(", "));
    }
}
