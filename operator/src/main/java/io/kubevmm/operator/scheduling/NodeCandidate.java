package io.kubevmm.operator.scheduling;

import java.util.Map;

/**
 * What the scheduler knows about one node: its labels, whether it takes new VMs, and how much
 * of its capacity the VMs already placed there use.
 */
public record NodeCandidate(String name, Map<String, String> labels, boolean unschedulable, boolean leaseFresh,
                            int cpuCapacity, long memoryCapacity, int cpuAllocated, long memoryAllocated) {
    public NodeCandidate {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    int cpuFree() { return cpuCapacity - cpuAllocated; }

    long memoryFree() { return memoryCapacity - memoryAllocated; }
}
