package io.kubevmm.node.controller;

import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.validation.Quantities;
import io.kubevmm.api.validation.SpecValidator;
import io.kubevmm.node.lifecycle.MachineState;
import io.kubevmm.node.lifecycle.NodeVms;
import io.kubevmm.node.lifecycle.VmRunner;
import io.kubevmm.node.config.NodeCapacity;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Decides whether this node takes a VMI it does not run yet: the spec must be valid and its
 * memory must fit next to the VMs already here. A refused VMI is never started, and nothing
 * that already runs is touched.
 */
@ApplicationScoped
public class VmiAdmission {

    record Rejection(String reason, String message) { }

    private final NodeVms vms;
    private final NodeCapacity capacity;
    private final String node;

    VmiAdmission(NodeVms vms, NodeCapacity capacity, io.kubevmm.node.config.NodeConfig config) {
        this.vms = vms;
        this.capacity = capacity;
        this.node = config.name();
    }

    Optional<Rejection> check(VirtualMachineInstance vmi, boolean alreadyHere) {
        var errors = SpecValidator.validate(vmi.getSpec());
        if (!errors.isEmpty()) {
            return Optional.of(new Rejection("InvalidSpec", errors.stream().map(Object::toString).collect(Collectors.joining("; "))));
        }
        if (alreadyHere) {
            return Optional.empty();
        }
        // The name becomes this node's state directory and QEMU's ids: refuse one that would break them
        // (only for a new instance: one already here keeps running as it is).
        List<io.kubevmm.api.validation.FieldError> name = new java.util.ArrayList<>();
        SpecValidator.vmName("metadata.name", vmi.getMetadata().getName(), name);
        if (!name.isEmpty()) {
            return Optional.of(new Rejection("InvalidSpec", name.getFirst().toString()));
        }
        long request = SpecDefaults.memoryBytes(vmi.getSpec());
        long used = vms.all().stream().filter(VmiAdmission::holdsMemory).mapToLong(r -> r.config().memoryBytes()).sum();
        long total = capacity.memoryBytes();
        if (used + request > total) {
            return Optional.of(new Rejection("InsufficientMemory", "spec.memory " + vmi.getSpec().getMemory()
                    + " does not fit on node " + node + ": " + Quantities.format(total - used) + " of "
                    + Quantities.format(total) + " free; lower spec.memory or place the VM on another node"));
        }
        return Optional.empty();
    }

    private static boolean holdsMemory(VmRunner runner) {
        MachineState m = runner.observe().machine();
        return m != MachineState.FINISHED && m != MachineState.FAILED && m != MachineState.SAVED_TO_DISK;
    }
}
