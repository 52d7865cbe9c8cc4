package io.kubevmm.node.controller;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.network.Remotes;
import io.kubevmm.node.testing.Vmis;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Which forwarding entries a node wants from the cluster's VMIs and VMNodes. */
class OverlayPeersTest {

    private static VMNode node(String name, String underlay) {
        VMNode n = new VMNode();
        n.setMetadata(new ObjectMetaBuilder().withName(name).build());
        VMNodeStatus s = new VMNodeStatus();
        s.setUnderlayAddress(underlay);
        n.setStatus(s);
        return n;
    }

    private static VirtualMachineInstance vmi(String name, String node, int vni, String mac) {
        VirtualMachineInstance vmi = Vmis.vmi(name, node, "128Mi", "idle", InstanceState.Running);
        OverlayAttachment a = new OverlayAttachment();
        a.setVni(vni);
        a.setCidr("10.200.0.0/16");
        a.setIpAddress("10.200.0.9");
        a.setMacAddress(mac);
        vmi.getSpec().setOverlay(a);
        return vmi;
    }

    @Test
    void remoteGuestsPointAtTheirNodesAndLocalOnesAreLeftToTheBridge() {
        List<VMNode> nodes = List.of(node("a", "10.99.0.1"), node("b", "10.99.0.2"), node("c", "10.99.0.3"), node("d", null));
        List<VirtualMachineInstance> vmis = List.of(
                vmi("here", "a", 100, "52:54:00:00:00:01"),
                vmi("there", "b", 100, "52:54:00:00:00:02"),
                vmi("far", "c", 100, "52:54:00:00:00:03"),
                vmi("other-net", "c", 200, "52:54:00:00:00:04"),
                vmi("unreported", "d", 100, "52:54:00:00:00:05"),
                Vmis.vmi("user-net", "b", "128Mi", "idle", InstanceState.Running));

        Map<Integer, Remotes> remotes = OverlayPeers.remotes(vmis, nodes, "a");

        assertThat(remotes).containsOnlyKeys(100, 200);
        assertThat(remotes.get(100).macs()).isEqualTo(Map.of("52:54:00:00:00:02", "10.99.0.2", "52:54:00:00:00:03", "10.99.0.3"));
        assertThat(remotes.get(100).nodes()).isEqualTo(Set.of("10.99.0.2", "10.99.0.3"));
        assertThat(remotes.get(200).nodes()).isEqualTo(Set.of("10.99.0.3"));
    }

    @Test
    void aMigratedGuestFollowsItsNodeName() {
        List<VMNode> nodes = List.of(node("a", "10.99.0.1"), node("b", "10.99.0.2"), node("c", "10.99.0.3"));
        assertThat(OverlayPeers.remotes(List.of(vmi("m", "b", 100, "52:54:00:00:00:09")), nodes, "a").get(100).macs())
                .containsEntry("52:54:00:00:00:09", "10.99.0.2");
        assertThat(OverlayPeers.remotes(List.of(vmi("m", "c", 100, "52:54:00:00:00:09")), nodes, "a").get(100).macs())
                .containsEntry("52:54:00:00:00:09", "10.99.0.3");
        assertThat(OverlayPeers.remotes(List.of(vmi("m", "a", 100, "52:54:00:00:00:09")), nodes, "a"))
                .as("arrived here: the bridge delivers it locally").isEmpty();
    }

    @Test
    void aHostThatIsNoNodeGetsTheFloodedFramesOfEverySegmentWithAGuest() {
        List<VMNode> nodes = List.of(node("a", "10.99.0.1"), node("b", "10.99.0.2"));
        List<VirtualMachineInstance> vmis = List.of(
                vmi("here", "a", 100, "52:54:00:00:00:01"),
                vmi("there", "b", 200, "52:54:00:00:00:02"));

        Map<Integer, Remotes> remotes = OverlayPeers.remotes(vmis, nodes, "a", List.of("10.99.0.100"));

        assertThat(remotes).containsOnlyKeys(100, 200);
        assertThat(remotes.get(100).macs()).as("only a guest of this node: nothing to forward").isEmpty();
        assertThat(remotes.get(100).nodes()).as("the host reaches the guest of this node").containsExactly("10.99.0.100");
        assertThat(remotes.get(200).nodes()).containsExactlyInAnyOrder("10.99.0.2", "10.99.0.100");
        assertThat(OverlayPeers.remotes(vmis, nodes, "a", List.of("10.99.0.1")).get(100).nodes())
                .as("this node's own address is no host to flood to").isEmpty();
    }
}
