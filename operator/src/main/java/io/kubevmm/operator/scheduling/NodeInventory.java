package io.kubevmm.operator.scheduling;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.validation.Quantities;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.ZonedDateTime;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the cluster into scheduler input: every VMNode, whether its Lease is fresh, and what
 * the VMIs placed on it and the VMs migrating onto it (other than the one being scheduled) use.
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
        Map<String, Usage> used = usage(client.resources(VirtualMachineInstance.class).inAnyNamespace().list().getItems(),
                client.resources(VMMigration.class).inAnyNamespace().list().getItems(), excludeNamespace, excludeName);
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
                    used.getOrDefault(name, Usage.NONE).cpu(),
                    used.getOrDefault(name, Usage.NONE).memoryBytes());
        }).toList();
    }

    /** vCPUs and memory a node is committed to. */
    record Usage(int cpu, long memoryBytes) {
        static final Usage NONE = new Usage(0, 0);

        Usage plus(VirtualMachineInstance vmi) {
            return new Usage(cpu + SpecDefaults.cpu(vmi.getSpec()), memoryBytes + SpecDefaults.memoryBytes(vmi.getSpec()));
        }
    }

    /**
     * What each node is committed to: the VMIs placed on it, and the VMs migrating onto it (their
     * target QEMU holds the memory already, and they land there), except the VM being scheduled.
     */
    static Map<String, Usage> usage(List<VirtualMachineInstance> vmis, List<VMMigration> migrations,
                                    String excludeNamespace, String excludeName) {
        Map<String, Usage> used = new HashMap<>();
        Map<String, VirtualMachineInstance> byName = new HashMap<>();
        for (VirtualMachineInstance vmi : vmis) {
            if (vmi.getSpec() == null || vmi.getSpec().getNodeName() == null
                    || (vmi.getMetadata().getName().equals(excludeName) && vmi.getMetadata().getNamespace().equals(excludeNamespace))) {
                continue;
            }
            byName.put(vmi.getMetadata().getNamespace() + "/" + vmi.getMetadata().getName(), vmi);
            used.merge(vmi.getSpec().getNodeName(), Usage.NONE.plus(vmi), (a, b) -> new Usage(a.cpu() + b.cpu(),
                    a.memoryBytes() + b.memoryBytes()));
        }
        for (VMMigration migration : migrations) {
            var status = migration.getStatus();
            if (status == null || status.getTargetNode() == null || !IN_FLIGHT.contains(status.getPhase())
                    || migration.getSpec() == null) {
                continue;
            }
            VirtualMachineInstance vmi = byName.get(migration.getMetadata().getNamespace() + "/" + migration.getSpec().getVmName());
            if (vmi != null && !status.getTargetNode().equals(vmi.getSpec().getNodeName())) {
                used.put(status.getTargetNode(), used.getOrDefault(status.getTargetNode(), Usage.NONE).plus(vmi));
            }
        }
        return used;
    }

    private static final Set<VMMigrationStatus.Phase> IN_FLIGHT = EnumSet.of(VMMigrationStatus.Phase.Scheduling,
            VMMigrationStatus.Phase.TargetReady, VMMigrationStatus.Phase.Running, VMMigrationStatus.Phase.PostCopy);

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
