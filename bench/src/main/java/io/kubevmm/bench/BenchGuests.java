package io.kubevmm.bench;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.ReadinessSpec;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VmState;

/** The VMs the cluster benchmarks measure: the test guest from guest/out, idle, Ready at its boot marker. */
final class BenchGuests {
    static final String MARKER = "KUBEVMM-GUEST-READY";

    private BenchGuests() { }

    /** An idle test guest in namespace default, to run, with {@code memory} (a quantity, e.g. 256Mi). */
    static VirtualMachine idle(String name, String memory) {
        return running(name, memory, "idle");
    }

    /** The test guest running {@code workload} (kubevmm.workload=, e.g. memcheck:32), in namespace default. */
    static VirtualMachine running(String name, String memory, String workload) {
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setState(VmState.Running);
        spec.setMemory(memory);
        BootSpec boot = new BootSpec();
        boot.setKernel(new FileRef("vmlinuz"));
        boot.setInitrd(new FileRef("initrd.img"));
        boot.setCmdline("console=ttyS0 quiet kubevmm.workload=" + workload);
        spec.setBoot(boot);
        ReadinessSpec readiness = new ReadinessSpec();
        readiness.setSerialPattern(MARKER);
        spec.setReadiness(readiness);
        spec.setTerminationGracePeriodSeconds(5L);
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        vm.setSpec(spec);
        return vm;
    }
}
