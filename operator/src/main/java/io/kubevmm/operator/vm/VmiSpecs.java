package io.kubevmm.operator.vm;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.Labels;
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

    static VirtualMachineInstance desired(VirtualMachine vm, String node) {
        return desired(vm, node, null, null);
    }

    /**
     * @param restoreFrom where the instance starts from instead of booting (kept for the life of an
     *                    instance started from a snapshot), or null
     * @param restoreId   the VMRestore that asked for it (annotation), or null
     */
    static VirtualMachineInstance desired(VirtualMachine vm, String node, RestoreSource restoreFrom, String restoreId) {
        VirtualMachineSpec from = vm.getSpec();
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setProfile(from.getProfile());
        spec.setCpu(from.getCpu());
        spec.setMemory(from.getMemory());
        spec.setBoot(from.getBoot());
        spec.setDisks(from.getDisks());
        spec.setNetwork(from.getNetwork());
        spec.setReadiness(from.getReadiness());
        spec.setRestartPolicy(from.getRestartPolicy());
        spec.setTerminationGracePeriodSeconds(from.getTerminationGracePeriodSeconds());
        spec.setNodeName(node);
        spec.setState(instanceState(from.getState()));
        spec.setSuspendMode(SpecDefaults.suspendMode(from.getSuspendMode()));
        spec.setRestoreFrom(restoreFrom);

        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setMetadata(new ObjectMetaBuilder()
                .withName(vm.getMetadata().getName())
                .withNamespace(vm.getMetadata().getNamespace())
                .withLabels(Map.of(Labels.NODE, node, Labels.VM, vm.getMetadata().getName()))
                .withAnnotations(restoreId == null ? null : Map.of(Labels.RESTORE_ID, restoreId))
                .withOwnerReferences(new OwnerReferenceBuilder()
                        .withApiVersion(vm.getApiVersion()).withKind(vm.getKind())
                        .withName(vm.getMetadata().getName()).withUid(vm.getMetadata().getUid())
                        .withController(true).withBlockOwnerDeletion(true).build())
                .build());
        vmi.setSpec(spec);
        return vmi;
    }
}
