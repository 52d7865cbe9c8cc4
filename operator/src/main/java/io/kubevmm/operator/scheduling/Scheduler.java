package io.kubevmm.operator.scheduling;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import io.kubevmm.api.v1alpha1.SpecDefaults;

/**
 * Places a VM on a node the way kube-scheduler places a pod: filter (node up, not cordoned,
 * nodeSelector, free cpu and memory), then score (spread: most free memory; pack: least).
 * Pure: every decision and every rejection message is unit-testable.
 */
public final class Scheduler {

    public enum Strategy { SPREAD, PACK }

    /**
     * What the VM needs.
     *
     * @param diskNode the node that holds the VM's local disks: the only node it may start on
     *                 (null: any node)
     */
    public record Request(int cpu, long memoryBytes, Map<String, String> nodeSelector, String diskNode) {
        public Request {
            nodeSelector = nodeSelector == null ? Map.of() : Map.copyOf(nodeSelector);
        }

        public Request(int cpu, long memoryBytes, Map<String, String> nodeSelector) {
            this(cpu, memoryBytes, nodeSelector, null);
        }

        /** The same request, bound to the node that holds the VM's disks. */
        public Request onDiskNode(String node) {
            return new Request(cpu, memoryBytes, nodeSelector, node);
        }

        public static Request of(io.kubevmm.api.v1alpha1.VirtualMachine vm) {
            var spec = vm.getSpec();
            return new Request(SpecDefaults.cpu(spec), SpecDefaults.memoryBytes(spec),
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
        if (request.diskNode() != null) {
            return placeOnDiskNode(request, nodes);
        }
        List<NodeCandidate> fits = new ArrayList<>();
        Map<String, Integer> reasons = new TreeMap<>();
        for (NodeCandidate node : nodes) {
            Optional<Rejection> rejection = reject(request, node);
            if (rejection.isPresent()) {
                reasons.merge(rejection.get().counted, 1, Integer::sum);
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

    /**
     * A VM whose local disks are on a node starts there or nowhere: disks move only with a live
     * migration. When that node cannot take it, the message says which node and why.
     */
    private static Decision placeOnDiskNode(Request request, List<NodeCandidate> nodes) {
        String name = request.diskNode();
        String prefix = "its disks are on node " + name + ", which ";
        String suffix = " (a VM with local disks starts only on the node that holds them; delete the VM to drop them).";
        Optional<NodeCandidate> holder = nodes.stream().filter(n -> n.name().equals(name)).findFirst();
        if (holder.isEmpty()) {
            return new Decision(Optional.empty(), prefix + "is not registered (no VMNode " + name + "): start its node runtime" + suffix);
        }
        return reject(request, holder.get())
                .map(r -> new Decision(Optional.<String>empty(), prefix + r.single + suffix))
                .orElseGet(() -> new Decision(Optional.of(name), "placed on " + name + ", which holds its disks"));
    }

    /** Why a node cannot take a VM: counted over nodes, or said of the one node that holds its disks. */
    private enum Rejection {
        LEASE_EXPIRED("node runtime not responding (lease expired)", "is not responding (its node runtime's lease expired)"),
        CORDONED("node(s) cordoned (unschedulable)", "is cordoned (unschedulable) or being evacuated"),
        SELECTOR("node(s) didn't match nodeSelector", "does not match the VM's nodeSelector"),
        MEMORY("insufficient memory", "has insufficient memory free"),
        CPU("insufficient cpu", "has insufficient cpu free");

        final String counted;
        final String single;

        Rejection(String counted, String single) {
            this.counted = counted;
            this.single = single;
        }
    }

    private static Optional<Rejection> reject(Request request, NodeCandidate node) {
        if (!node.leaseFresh()) {
            return Optional.of(Rejection.LEASE_EXPIRED);
        }
        if (node.unschedulable()) {
            return Optional.of(Rejection.CORDONED);
        }
        for (var wanted : request.nodeSelector().entrySet()) {
            if (!wanted.getValue().equals(node.labels().get(wanted.getKey()))) {
                return Optional.of(Rejection.SELECTOR);
            }
        }
        if (node.memoryFree() < request.memoryBytes()) {
            return Optional.of(Rejection.MEMORY);
        }
        if (node.cpuFree() < request.cpu()) {
            return Optional.of(Rejection.CPU);
        }
        return Optional.empty();
    }
}
