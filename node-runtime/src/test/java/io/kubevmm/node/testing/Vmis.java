package io.kubevmm.node.testing;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.ReadinessSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;

import java.util.Map;

/** VMI objects as the operator would create them for the test node. */
public final class Vmis {
    private Vmis() { }

    public static VirtualMachineInstance vmi(String name, String node, String memory, String workload, InstanceState state) {
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setNodeName(node);
        spec.setState(state);
        spec.setCpu(1);
        spec.setMemory(memory);
        BootSpec boot = new BootSpec();
        boot.setKernel(file("vmlinuz"));
        boot.setInitrd(file("initrd.img"));
        boot.setCmdline("console=ttyS0 quiet kubevmm.workload=" + workload);
        spec.setBoot(boot);
        ReadinessSpec readiness = new ReadinessSpec();
        readiness.setSerialPattern(GuestConsole.READY);
        spec.setReadiness(readiness);
        spec.setTerminationGracePeriodSeconds(10L);
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default")
                .withLabels(Map.of(Labels.NODE, node)).build());
        vmi.setSpec(spec);
        return vmi;
    }

    private static FileRef file(String path) {
        FileRef ref = new FileRef();
        ref.setPath(path);
        return ref;
    }
}
