package io.kubevmm.operator.scheduling;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.validation.Quantities;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the cluster into scheduler input: every VMNode, whether its Lease is fresh, and what
 * the VMIs placed on it (other than the one being scheduled) use.
 */
@ApplicationScoped
public class NodeInventory {
    private final KubernetesClient client;
    private final String leaseNamespace;

    NodeInventory(KubernetesClient client,
                  @ConfigProperty(name = "kubevmm.operator.lease-namespace", defaultValue = "kubevmm-system") String leaseNamespace) {
        this.client = client;
        this.leaseNamespace = leaseNamespace;
    }

    public List<NodeCandidate> candidates(String excludeNamespace, String excludeName) {
        Map<String, int[]> cpu = new HashMap<>();
        Map<String, long[]> memory = new HashMap<>();
        for (VirtualMachineInstance vmi : client.resources(VirtualMachineInstance.class).inAnyNamespace().list().getItems()) {
            if (vmi.getSpec() == null || vmi.getSpec().getNodeName() == null
                    || (vmi.getMetadata().getName().equals(excludeName) && vmi.getMetadata().getNamespace().equals(excludeNamespace))) {
                continue;
            }
            String node = vmi.getSpec().getNodeName();
            cpu.computeIfAbsent(node, n -> new int[1])[0] += vmi.getSpec().getCpu() == null ? 1 : vmi.getSpec().getCpu();
            memory.computeIfAbsent(node, n -> new long[1])[0] +=
                    Quantities.toBytes(vmi.getSpec().getMemory() == null ? "256Mi" : vmi.getSpec().getMemory());
        }
        return client.resources(VMNode.class).list().getItems().stream().map(node -> {
            String name = node.getMetadata().getName();
            var status = node.getStatus();
            var capacity = status == null ? null : status.getCapacity();
            return new NodeCandidate(name, node.getMetadata().getLabels(),
                    // An evacuating node takes nothing new: it is being emptied.
                    node.getSpec() != null && (Boolean.TRUE.equals(node.getSpec().getUnschedulable())
                            || Boolean.TRUE.equals(node.getSpec().getEvacuate())),
                    leaseFresh(name),
                    capacity == null || capacity.getCpu() == null ? 0 : capacity.getCpu(),
                    capacity == null || capacity.getMemory() == null ? 0 : Quantities.toBytes(capacity.getMemory()),
                    cpu.getOrDefault(name, new int[1])[0],
                    memory.getOrDefault(name, new long[1])[0]);
        }).toList();
    }

    /** A node runtime renews Lease kubevmm-node-<name>; past its duration the node counts as down. */
    public boolean leaseFresh(String node) {
        Lease lease = client.leases().inNamespace(leaseNamespace).withName("kubevmm-node-" + node).get();
        if (lease == null || lease.getSpec() == null || lease.getSpec().getRenewTime() == null) {
            return false;
        }
        int duration = lease.getSpec().getLeaseDurationSeconds() == null ? 40 : lease.getSpec().getLeaseDurationSeconds();
        ZonedDateTime renewed = lease.getSpec().getRenewTime();
        return renewed.plusSeconds(duration).isAfter(ZonedDateTime.now());
    }
}
