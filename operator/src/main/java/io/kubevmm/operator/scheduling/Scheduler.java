package io.kubevmm.operator.scheduling;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Places a VM on a node the way kube-scheduler places a pod: filter (node up, not cordoned,
 * nodeSelector, free cpu and memory), then score (spread: most free memory; pack: least).
 * Pure: every decision and every rejection message is unit-testable.
 */
public final class Scheduler {

    public enum Strategy { SPREAD, PACK }

    /** What the VM needs. */
    public record Request(int cpu, long memoryBytes, Map<String, String> nodeSelector) {
        public Request {
            nodeSelector = nodeSelector == null ? Map.of() : Map.copyOf(nodeSelector);
        }

        public static Request of(io.kubevmm.api.v1alpha1.VirtualMachine vm) {
            var spec = vm.getSpec();
            return new Request(spec.getCpu() == null ? 1 : spec.getCpu(),
                    io.kubevmm.api.validation.Quantities.toBytes(spec.getMemory() == null ? "256Mi" : spec.getMemory()),
                    spec.getNodeSelector());
        }
    }

    /** Either a node, or why none fits, worded like kube-scheduler: {@code 0/2 nodes are available: 2 insufficient memory.} */
    public record Decision(Optional<String> node, String message) {
        public boolean placed() { return node.isPresent(); }
    }

    private final Strategy strategy;

    public Scheduler(Strategy strategy) {
        this.strategy = strategy;
    }

    public Decision place(Request request, List<NodeCandidate> nodes) {
        List<NodeCandidate> fits = new ArrayList<>();
        Map<String, Integer> reasons = new TreeMap<>();
        for (NodeCandidate node : nodes) {
            Optional<String> rejection = reject(request, node);
            if (rejection.isPresent()) {
                reasons.merge(rejection.get(), 1, Integer::sum);
            } else {
                fits.add(node);
            }
        }
        if (fits.isEmpty()) {
            StringBuilder message = new StringBuilder("0/" + nodes.size() + " nodes are available");
            if (nodes.isEmpty()) {
                message.append(": no VMNode is registered; start a node runtime");
            } else {
                message.append(": ");
                List<String> parts = new ArrayList<>();
                reasons.forEach((reason, count) -> parts.add(count + " " + reason));
                message.append(String.join(", ", parts));
            }
            return new Decision(Optional.empty(), message.append('.').toString());
        }
        Comparator<NodeCandidate> byFreeMemory = Comparator.comparingLong(NodeCandidate::memoryFree);
        Comparator<NodeCandidate> order = (strategy == Strategy.SPREAD ? byFreeMemory.reversed() : byFreeMemory)
                .thenComparing(NodeCandidate::name);
        NodeCandidate chosen = fits.stream().min(order).orElseThrow();
        return new Decision(Optional.of(chosen.name()), "placed on " + chosen.name());
    }

    private static Optional<String> reject(Request request, NodeCandidate node) {
        if (!node.leaseFresh()) {
            return Optional.of("node runtime not responding (lease expired)");
        }
        if (node.unschedulable()) {
            return Optional.of("node(s) cordoned (unschedulable)");
        }
        for (var wanted : request.nodeSelector().entrySet()) {
            if (!wanted.getValue().equals(node.labels().get(wanted.getKey()))) {
                return Optional.of("node(s) didn't match nodeSelector");
            }
        }
        if (node.memoryFree() < request.memoryBytes()) {
            return Optional.of("insufficient memory");
        }
        if (node.cpuFree() < request.cpu()) {
            return Optional.of("insufficient cpu");
        }
        return Optional.empty();
    }
}
