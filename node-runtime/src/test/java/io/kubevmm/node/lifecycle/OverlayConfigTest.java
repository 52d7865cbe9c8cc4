package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.NetworkSpec;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.testing.Vmis;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How a VMI's {@code spec.overlay} (the operator's allocation) becomes the engine's overlay attachment. */
class OverlayConfigTest {

    private static VirtualMachineInstance overlayVmi(OverlayAttachment attachment) {
        VirtualMachineInstance vmi = Vmis.vmi("web", "node-a", "128Mi", "idle", InstanceState.Running);
        NetworkSpec network = new NetworkSpec();
        network.setMode(NetworkMode.overlay);
        network.setNetworkName("blue");
        vmi.getSpec().setNetwork(network);
        vmi.getSpec().setOverlay(attachment);
        return vmi;
    }

    private static OverlayAttachment attachment(String cidr, String ip, String mac) {
        OverlayAttachment a = new OverlayAttachment();
        a.setNetworkName("blue");
        a.setCidr(cidr);
        a.setVni(300);
        a.setIpAddress(ip);
        a.setMacAddress(mac);
        return a;
    }

    @Test
    void anAllocatedAttachmentIsTheGuestsPlaceOnTheSegment() {
        VmConfig.Overlay overlay = VmiConfigMapper.overlay(overlayVmi(attachment("10.210.0.0/16", "10.210.3.4", "52:54:00:01:02:03")));
        assertThat(overlay).isEqualTo(new VmConfig.Overlay("blue", 300, "10.210.0.0/16", "10.210.3.4", "52:54:00:01:02:03"));
    }

    @Test
    void noAttachmentYetIsRefusedUntilTheOperatorAllocated() {
        assertThatThrownBy(() -> VmiConfigMapper.overlay(overlayVmi(null)))
                .isInstanceOf(ImagePaths.Refused.class)
                .hasMessageContaining("spec.overlay is missing: the operator has not allocated this VM's address on network blue yet")
                .extracting(e -> ((ImagePaths.Refused) e).reason()).isEqualTo("OverlayNotAllocated");
    }

    @Test
    void unusableValuesAreRefusedNamingTheField() {
        assertThatThrownBy(() -> VmiConfigMapper.overlay(overlayVmi(attachment("10.210.0.0/16", "10.211.0.4", "52:54:00:01:02:03"))))
                .hasMessageContaining("spec.overlay").hasMessageContaining("not a guest address of 10.210.0.0/16");
        assertThatThrownBy(() -> VmiConfigMapper.overlay(overlayVmi(attachment("10.210.0.0/16", "10.210.0.4", "52:54:00:01:02"))))
                .hasMessageContaining("macAddress \"52:54:00:01:02\" is not a MAC address");
        assertThatThrownBy(() -> VmiConfigMapper.overlay(overlayVmi(attachment("10.210.0.1/16", "10.210.0.4", "52:54:00:01:02:03"))))
                .hasMessageContaining("is not a network address; use 10.210.0.0/16");
        assertThatThrownBy(() -> VmiConfigMapper.overlay(overlayVmi(attachment("10.210.0.0/16", "10.210.0.4; rm -rf /", "52:54:00:01:02:03"))))
                .hasMessageContaining("is not an IPv4 address");
    }
}
