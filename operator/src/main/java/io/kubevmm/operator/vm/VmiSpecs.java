package io.kubevmm.operator.vm;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.api.v1alpha1.RestoreSource;
import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VmState;

import java.util.Map;

/** The VirtualMachineInstance a VirtualMachine needs on its node. Pure. */
final class VmiSpecs {
    private VmiSpecs() { }

    static InstanceState instanceState(VmState state) {
        return switch (state == null ? VmState.Running : state) {
            case Stopped -> InstanceState.Stopped;
            case Suspended -> InstanceState.Suspended;
            case Running, Defined -> InstanceState.Running;
        };
    }

    /**
     * The restore id, and {@link HighAvailabilitySpec#FENCE_ANNOTATION} for mode Restart: the
     * instance's node fences its guest when it loses its Lease (docs/ha.md).
     */
    static Map<String, String> annotations(VirtualMachine vm, String restoreId) {
        Map<String, String> annotations = new java.util.HashMap<>();
        if (restoreId != null) {
            annotations.put(Labels.RESTORE_ID, restoreId);
        }
        if (HighAvailabilitySpec.mode(vm.getSpec()) == HighAvailabilitySpec.Mode.Restart) {
            annotations.put(HighAvailabilitySpec.FENCE_ANNOTATION, HighAvailabilitySpec.Mode.Restart.name());
        }
        return annotations.isEmpty() ? null : annotations;
    }

    static VirtualMachineInstance desired(VirtualMachine vm, String node) {
        return desired(vm, node, null, null, null);
    }

    /**
     * @param restoreFrom where the instance starts from instead of booting (kept for the life of an
     *                    instance started from a snapshot), or null
     * @param restoreId   the VMRestore that asked for it (annotation), or null
     * @param overlay     the VM's overlay address with its network's cidr and vni, or null
     */
    static VirtualMachineInstance desired(VirtualMachine vm, String node, RestoreSource restoreFrom, String restoreId,
                                          OverlayAttachment overlay) {
        VirtualMachineSpec from = vm.getSpec();
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setProfile(from.getProfile());
        spec.setCpu(from.getCpu());
        spec.setMemory(from.getMemory());
        spec.setBoot(from.getBoot());
        spec.setDisks(from.getDisks());
        spec.setNetwork(from.getNetwork());
        spec.setCloudInit(from.getCloudInit());
        spec.setReadiness(from.getReadiness());
        spec.setRestartPolicy(from.getRestartPolicy());
        spec.setTerminationGracePeriodSeconds(from.getTerminationGracePeriodSeconds());
        spec.setNodeName(node);
        spec.setState(instanceState(from.getState()));
        spec.setSuspendMode(SpecDefaults.suspendMode(from.getSuspendMode()));
        spec.setRestoreFrom(restoreFrom);
        spec.setOverlay(overlay);

        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setMetadata(new ObjectMetaBuilder()
                .withName(vm.getMetadata().getName())
                .withNamespace(vm.getMetadata().getNamespace())
                .withLabels(Map.of(Labels.NODE, node, Labels.VM, vm.getMetadata().getName()))
                .withAnnotations(annotations(vm, restoreId))
                .withOwnerReferences(new OwnerReferenceBuilder()
                        .withApiVersion(vm.getApiVersion()).withKind(vm.getKind())
                        .withName(vm.getMetadata().getName()).withUid(vm.getMetadata().getUid())
                        .withController(true).withBlockOwnerDeletion(true).build())
                .build());
        vmi.setSpec(spec);
        return vmi;
    }
}
