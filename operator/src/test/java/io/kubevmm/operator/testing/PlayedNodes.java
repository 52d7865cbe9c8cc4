package io.kubevmm.operator.testing;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.NodeResources;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeSpec;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;

import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;

/** What the operator's tests make node runtimes do: register a node, renew its Lease, report a guest ready. */
public final class PlayedNodes {
    private PlayedNodes() { }

    /** A node runtime's registration: its VMNode (labelled with its name) with {@code cpu} and {@code memory}, and a Lease held for an hour. */
    public static VMNode register(KubernetesClient client, String name, int cpu, String memory) {
        VMNode node = new VMNode();
        node.setMetadata(new ObjectMetaBuilder().withName(name).withLabels(Map.of(Labels.NODE, name)).build());
        node.setSpec(new VMNodeSpec());
        client.resource(node).createOr(n -> n.update());
        VMNodeStatus status = new VMNodeStatus();
        NodeResources capacity = new NodeResources();
        capacity.setCpu(cpu);
        capacity.setMemory(memory);
        status.setCapacity(capacity);
        status.setHeartbeatTime(ZonedDateTime.now().toString());
        node.setStatus(status);
        client.resource(node).updateStatus();
        lease(client, name, ZonedDateTime.now(), 3600);
        return node;
    }

    /** Node {@code name}'s Lease, last renewed at {@code renewed}, valid for {@code seconds}. */
    public static void lease(KubernetesClient client, String name, ZonedDateTime renewed, int seconds) {
        client.leases().inNamespace("kubevmm-system").resource(new LeaseBuilder()
                .withNewMetadata().withName("kubevmm-node-" + name).withNamespace("kubevmm-system").endMetadata()
                .withNewSpec().withHolderIdentity(name).withLeaseDurationSeconds(seconds).withRenewTime(renewed).endSpec()
                .build()).createOr(l -> l.update());
    }

    /** The node runtime reports the instance running on its node and its guest ready. */
    public static void reportReady(KubernetesClient client, VirtualMachineInstance vmi, String message) {
        VirtualMachineInstanceStatus s = new VirtualMachineInstanceStatus();
        s.setPhase(InstancePhase.Running);
        s.setNodeName(vmi.getSpec().getNodeName());
        s.setConditions(List.of(new ConditionBuilder().withType("Ready").withStatus("True").withReason("GuestReady")
                .withMessage(message).withLastTransitionTime("2026-01-01T00:00:00Z").build()));
        vmi.setStatus(s);
        client.resource(vmi).updateStatus();
    }
}
