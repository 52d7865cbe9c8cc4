package io.kubevmm.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The guest lines of {@code describe vm}: the OS and addresses the guest agent reports. */
class VmDescriptionGuestTest {

    @Test
    void theGuestOsShowsWithItsKernel() {
        assertThat(VmDescription.guestOs(Map.of("osName", "Debian GNU/Linux 12 (bookworm)", "kernelRelease", "6.1.0-27-cloud-amd64")))
                .isEqualTo("Debian GNU/Linux 12 (bookworm), kernel 6.1.0-27-cloud-amd64");
        assertThat(VmDescription.guestOs(null)).isNull();
    }

    @Test
    void eachInterfaceShowsItsAddresses() {
        assertThat(VmDescription.addresses(List.of(
                Map.of("name", "ens3", "macAddress", "52:54:00:00:00:03", "ipAddresses", List.of("10.0.2.15", "fec0::5054:ff:fe00:3")),
                Map.of("name", "ens4"))))
                .containsExactly("ens3 (52:54:00:00:00:03): 10.0.2.15, fec0::5054:ff:fe00:3", "ens4: no address");
        assertThat(VmDescription.addresses(null)).isNull();
    }
}
