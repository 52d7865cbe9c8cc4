package io.kubevmm.cli;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The overlay address line of {@code describe vm}: the IP and MAC the VM keeps for its life. */
class VmDescriptionNetworkTest {

    @Test
    void anAllocatedAddressShowsIpMacAndNetwork() {
        assertThat(VmDescription.overlayAddress(Map.of("networkName", "default", "ipAddress", "10.200.0.2",
                "macAddress", "02:5e:10:aa:bb:cc"))).isEqualTo("10.200.0.2, MAC 02:5e:10:aa:bb:cc, VMNetwork default");
    }

    @Test
    void noAddressNoLine() {
        assertThat(VmDescription.overlayAddress(null)).isNull();
        assertThat(VmDescription.overlayAddress(Map.of("networkName", "default"))).isNull();
    }
}
